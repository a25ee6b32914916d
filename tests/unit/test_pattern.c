// SPDX-License-Identifier: GPL-2.0
/* The data checker must be able to fail: every kind of damage an I/O bug
 * could do is caught, at the exact first wrong byte. */
#include "check.h"
#include "mmrepro/pattern.h"

#define LEN (4 * MMR_REC_SIZE)
#define OFF (12 * MMR_REC_SIZE)

static struct mmr_pattern p;
static unsigned char buf[LEN], other[LEN];

static int check_at(uint64_t gen, struct mmr_pattern_err *e)
{
	return mmr_pattern_check(&p, buf, LEN, OFF, gen, e);
}

int main(void)
{
	struct mmr_pattern_err e;

	mmr_pattern_init(&p, 42);
	mmr_pattern_fill(&p, buf, LEN, OFF, 7);
	CHECK(check_at(7, &e) == 0);

	/* every single flipped byte, header or payload, is found where it is */
	for (size_t at = 0; at < LEN; at += 509) {
		buf[at] ^= 0x10;
		CHECK(check_at(7, &e) == -EILSEQ);
		CHECK(e.offset == OFF + at);
		CHECK(e.rec_offset == OFF + at / MMR_REC_SIZE * MMR_REC_SIZE);
		CHECK(e.found == (unsigned char)(e.expected ^ 0x10));
		buf[at] ^= 0x10;
	}
	CHECK(check_at(7, &e) == 0);

	/* stale: the previous generation is wrong from its header on (its CRC,
	 * bytes 4..7, is the first field that differs) */
	CHECK(check_at(8, &e) == -EILSEQ && e.offset >= OFF + 4 && e.offset < OFF + 8);
	CHECK(strstr(e.what, "generation 7") != NULL);

	/* a torn copy: the second half of a record from the previous generation */
	mmr_pattern_fill(&p, other, LEN, OFF, 6);
	memcpy(buf + MMR_REC_SIZE + 2048, other + MMR_REC_SIZE + 2048, 2048);
	CHECK(check_at(7, &e) == -EILSEQ);
	CHECK(e.offset >= OFF + MMR_REC_SIZE + 2048 && e.offset < OFF + MMR_REC_SIZE + 2056);
	CHECK(strstr(e.what, "record of offset 53248 generation 7; its header is right") != NULL);

	/* misplaced: the records of another offset, whole and self-consistent */
	mmr_pattern_fill(&p, buf, LEN, OFF + LEN, 7);
	CHECK(check_at(7, &e) == -EILSEQ && e.offset >= OFF + 4 && e.offset < OFF + 8);
	CHECK(strstr(e.what, "; the record of offset 65536 generation 7 is there instead") != NULL);

	/* zeroes (a page that was never written, or a fresh anonymous page) */
	memset(buf, 0, LEN);
	CHECK(check_at(7, &e) == -EILSEQ && e.offset == OFF);
	CHECK(strstr(e.what, "no record header") != NULL);

	/* another seed is another data set */
	mmr_pattern_fill(&p, buf, LEN, OFF, 7);
	{
		struct mmr_pattern q;

		mmr_pattern_init(&q, 43);
		CHECK(mmr_pattern_check(&q, buf, LEN, OFF, 7, &e) == -EILSEQ);
	}
	/* a damaged header CRC is named as such */
	buf[MMR_REC_SIZE + 5] ^= 1;
	CHECK(check_at(7, &e) == -EILSEQ && e.offset == OFF + MMR_REC_SIZE + 5);
	CHECK(strstr(e.what, "bad CRC") != NULL);
	return check_done("test_pattern");
}
