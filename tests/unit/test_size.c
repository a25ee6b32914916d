// SPDX-License-Identifier: GPL-2.0
/* Sizes and durations as users write them. */
#include "check.h"
#include "mmrepro/util.h"

#include <errno.h>

static uint64_t size_of(const char *s)
{
	uint64_t v = 12345;

	CHECK(mmr_parse_size(s, &v) == 0);
	return v;
}

static void rejects(const char *s, int err)
{
	uint64_t v;

	if (mmr_parse_size(s, &v) != err) {
		fprintf(stderr, "\"%s\" should be rejected with %d\n", s, err);
		check_failures++;
	}
}

int main(void)
{
	char buf[32];
	double d;

	CHECK(size_of("4096") == 4096);
	CHECK(size_of("4k") == 4096);
	CHECK(size_of("4K") == 4096);
	CHECK(size_of("4KiB") == 4096);
	CHECK(size_of("4kb") == 4096);
	CHECK(size_of("512M") == 512ULL << 20);
	CHECK(size_of("1G") == 1ULL << 30);
	CHECK(size_of("1GiB") == 1ULL << 30);
	CHECK(size_of("2T") == 2ULL << 40);
	CHECK(size_of("0") == 0);
	CHECK(size_of("  8M") == 8ULL << 20);
	rejects("", -EINVAL);
	rejects("M", -EINVAL);
	rejects("12Q", -EINVAL);
	rejects("1.5G", -EINVAL);
	rejects("-1G", -EINVAL);
	rejects("1G extra", -EINVAL);
	rejects("1GG", -EINVAL);
	rejects("99999999999999999999", -ERANGE);
	rejects("17179869184T", -ERANGE);

	mmr_format_size(1ULL << 30, buf, sizeof(buf));
	CHECK_STR(buf, "1G");
	mmr_format_size(3ULL << 20, buf, sizeof(buf));
	CHECK_STR(buf, "3M");
	mmr_format_size(65536, buf, sizeof(buf));
	CHECK_STR(buf, "64K");
	mmr_format_size(1536ULL << 20, buf, sizeof(buf));
	CHECK_STR(buf, "1536M");
	mmr_format_size(1000, buf, sizeof(buf));
	CHECK_STR(buf, "1000");
	mmr_format_size(0, buf, sizeof(buf));
	CHECK_STR(buf, "0");

	CHECK(mmr_parse_duration("90s", &d) == 0 && d == 90);
	CHECK(mmr_parse_duration("10m", &d) == 0 && d == 600);
	CHECK(mmr_parse_duration("1h", &d) == 0 && d == 3600);
	CHECK(mmr_parse_duration("250ms", &d) == 0 && fabs(d - 0.25) < 1e-12);
	CHECK(mmr_parse_duration("7", &d) == 0 && d == 7);
	CHECK(mmr_parse_duration("7x", &d) == -EINVAL);
	CHECK(mmr_parse_duration("-1s", &d) == -EINVAL);
	CHECK(mmr_parse_duration("", &d) == -EINVAL);
	return check_done("test_size");
}
