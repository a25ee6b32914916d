// SPDX-License-Identifier: GPL-2.0
/* Seeded self-describing records (see pattern.h). */
#include "mmrepro/pattern.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

struct rec_hdr {
	uint32_t magic;
	uint32_t crc; /* CRC-32 of the header with this field zero */
	uint64_t seed;
	uint64_t offset;
	uint64_t gen;
};

_Static_assert(sizeof(struct rec_hdr) == MMR_REC_HDR, "record header is 32 bytes");
/* the first wrong byte of a word is found from its lowest differing bit */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian words");

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t record_key(uint64_t seed, uint64_t off, uint64_t gen)
{
	return mix64(seed ^ mix64(off ^ mix64(gen + 0x9e3779b97f4a7c15ULL)));
}

static void make_header(struct rec_hdr *h, uint64_t seed, uint64_t off, uint64_t gen)
{
	memset(h, 0, sizeof(*h));
	h->magic = MMR_REC_MAGIC;
	h->seed = seed;
	h->offset = off;
	h->gen = gen;
	h->crc = (uint32_t)crc32(0, (const Bytef *)h, sizeof(*h));
}

void mmr_pattern_init(struct mmr_pattern *p, uint64_t seed)
{
	uint64_t s = seed;

	p->seed = seed;
	for (size_t i = 0; i < MMR_REC_WORDS; i++)
		p->tmpl[i] = mix64(s += 0x9e3779b97f4a7c15ULL);
}

void mmr_pattern_fill(const struct mmr_pattern *p, void *buf, size_t len, uint64_t off,
		      uint64_t gen)
{
	for (size_t r = 0; r < len / MMR_REC_SIZE; r++) {
		char *rec = (char *)buf + r * MMR_REC_SIZE;
		uint64_t key = record_key(p->seed, off + r * MMR_REC_SIZE, gen), *w;
		struct rec_hdr h;

		make_header(&h, p->seed, off + r * MMR_REC_SIZE, gen);
		memcpy(rec, &h, sizeof(h));
		w = (uint64_t *)(rec + MMR_REC_HDR);
		for (size_t i = 0; i < MMR_REC_WORDS; i++)
			w[i] = p->tmpl[i] ^ key;
	}
}

/* What the header that is there says, for the report. */
static void describe_found(const void *rec, char *buf, size_t len)
{
	struct rec_hdr h, zero;

	memcpy(&h, rec, sizeof(h));
	zero = h;
	zero.crc = 0;
	if (h.magic != MMR_REC_MAGIC) {
		snprintf(buf, len, "no record header there (first bytes %08x)", h.magic);
		return;
	}
	if (h.crc != (uint32_t)crc32(0, (const Bytef *)&zero, sizeof(zero))) {
		snprintf(buf, len, "a record header with a bad CRC");
		return;
	}
	snprintf(buf, len, "the record of offset %llu generation %llu is there instead",
		 (unsigned long long)h.offset, (unsigned long long)h.gen);
}

static int report(const void *buf, size_t at, uint64_t rec_start, uint8_t want, size_t rec_idx,
		  uint64_t off, uint64_t gen, bool header_ok, struct mmr_pattern_err *err)
{
	const char *rec = (const char *)buf + rec_idx * MMR_REC_SIZE;
	char found[96];

	err->offset = off + at;
	err->rec_offset = rec_start;
	err->expected = want;
	err->found = ((const uint8_t *)buf)[at];
	if (header_ok)
		snprintf(found, sizeof(found), "its header is right");
	else
		describe_found(rec, found, sizeof(found));
	snprintf(err->what, sizeof(err->what),
		 "byte at offset %llu is 0x%02x, expected 0x%02x (record of offset %llu "
		 "generation %llu; %s)",
		 (unsigned long long)err->offset, err->found, err->expected,
		 (unsigned long long)rec_start, (unsigned long long)gen, found);
	return -EILSEQ;
}

int mmr_pattern_check(const struct mmr_pattern *p, const void *buf, size_t len, uint64_t off,
		      uint64_t gen, struct mmr_pattern_err *err)
{
	for (size_t r = 0; r < len / MMR_REC_SIZE; r++) {
		const uint8_t *rec = (const uint8_t *)buf + r * MMR_REC_SIZE;
		uint64_t start = off + r * MMR_REC_SIZE, key = record_key(p->seed, start, gen);
		const uint64_t *w = (const uint64_t *)(rec + MMR_REC_HDR);
		uint64_t bad = 0;
		struct rec_hdr h;
		size_t i;

		make_header(&h, p->seed, start, gen);
		if (memcmp(rec, &h, sizeof(h))) {
			for (i = 0; rec[i] == ((const uint8_t *)&h)[i]; i++)
				;
			return report(buf, r * MMR_REC_SIZE + i, start, ((const uint8_t *)&h)[i], r,
				      off, gen, false, err);
		}
		/* branch-free over the record: the compiler vectorises this */
		for (i = 0; i < MMR_REC_WORDS; i++)
			bad |= w[i] ^ p->tmpl[i] ^ key;
		if (!bad)
			continue;
		for (i = 0; !(w[i] ^ p->tmpl[i] ^ key); i++)
			;
		{
			uint64_t want = p->tmpl[i] ^ key, diff = w[i] ^ want;
			unsigned byte = (unsigned)__builtin_ctzll(diff) / 8; /* little-endian */

			return report(buf, r * MMR_REC_SIZE + MMR_REC_HDR + i * 8 + byte, start,
				      (uint8_t)(want >> (byte * 8)), r, off, gen, true, err);
		}
	}
	return 0;
}
