/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-describing data for I/O correctness checks.
 *
 * A file (or any byte range) is a sequence of 4 KiB records. Each record
 * starts with a 32-byte header -- magic, CRC-32 of the header, seed, the byte
 * offset the record belongs at, and a generation number -- followed by
 * payload words that are a seeded template XORed with a key derived from
 * (seed, offset, generation). So every 8 bytes of a record say where and
 * when they belong: stale data (an older generation), misplaced data (another
 * offset), zeroes or a torn copy all differ from the expected bytes, and the
 * checker names the first wrong byte.
 *
 * Checking compares against the regenerated expectation instead of
 * recomputing a checksum of the payload: exact, and about five times cheaper
 * than zlib's crc32 in a loop that also times the I/O. The header CRC lets a
 * record found anywhere be identified on its own.
 */
#ifndef MMREPRO_PATTERN_H
#define MMREPRO_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define MMR_REC_SIZE  4096u
#define MMR_REC_HDR   32u
#define MMR_REC_WORDS ((MMR_REC_SIZE - MMR_REC_HDR) / 8)
#define MMR_REC_MAGIC 0x504d524dU /* "MRMP" little-endian */

struct mmr_pattern {
	uint64_t seed;
	uint64_t tmpl[MMR_REC_WORDS];
};

/* What the checker found at the first wrong byte. */
struct mmr_pattern_err {
	uint64_t offset;     /* absolute offset of the first wrong byte */
	uint64_t rec_offset; /* offset of the record holding it */
	uint8_t expected, found;
	char what[192]; /* one line for a report */
};

void mmr_pattern_init(struct mmr_pattern *p, uint64_t seed);
/* Fill buf (len a multiple of MMR_REC_SIZE) with the records that belong at
 * offset off (a multiple of MMR_REC_SIZE) in generation gen. */
void mmr_pattern_fill(const struct mmr_pattern *p, void *buf, size_t len, uint64_t off,
		      uint64_t gen);
/* 0 when buf holds exactly the records of (off, gen); otherwise -EILSEQ with
 * err describing the first wrong byte. */
int mmr_pattern_check(const struct mmr_pattern *p, const void *buf, size_t len, uint64_t off,
		      uint64_t gen, struct mmr_pattern_err *err);

#endif
