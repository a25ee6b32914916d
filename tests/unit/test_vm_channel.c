// SPDX-License-Identifier: GPL-2.0
/*
 * `mmrepro vm`'s two formats: the report channel a guest writes (whole
 * streams, streams fed a byte at a time, and every kind of garbage: not a
 * record, a file before "ready", a corrupted or truncated gzip, an unknown
 * file name, records after "exit") and the newc cpio archives it boots.
 */
#include "check.h"
#include "mmrepro/util.h"
#include "mmrepro/vm.h"

#include <stdint.h>
#include <sys/stat.h>
#include <zlib.h>

/* gzip data as the guest's `gzip -c` makes it (zlib's gzip wrapper) */
static size_t gz(const char *text, unsigned char *out, size_t cap)
{
	z_stream z = { 0 };
	size_t n;

	CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
	n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

struct stream {
	char buf[8192];
	size_t len;
};

static void put(struct stream *s, const char *text)
{
	memcpy(s->buf + s->len, text, strlen(text));
	s->len += strlen(text);
}

static void put_file(struct stream *s, const char *name, const char *text, int corrupt_at)
{
	unsigned char data[2048];
	size_t n = gz(text, data, sizeof(data));

	if (corrupt_at >= 0)
		data[corrupt_at] ^= 0x5a;
	s->len += (size_t)snprintf(s->buf + s->len, sizeof(s->buf) - s->len, "MMRVM file %s %zu\n",
				   name, n);
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len++] = '\n';
}

static const char report[] = "{\"schema_version\": 1, \"cases\": []}\n";

static void whole_stream(struct stream *s)
{
	s->len = 0;
	put(s, "MMRVM ready 6.12.117+deb12-cloud-amd64 2.31\n");
	put_file(s, "report", report, -1);
	put_file(s, "stdout", "table\n", -1);
	put_file(s, "dmesg", "[    0.000000] Linux version 6.12.117\n", -1);
	put(s, "MMRVM exit 1\n");
}

static void test_whole(void)
{
	struct mmr_vm_channel ch = { 0 };
	struct stream s;

	whole_stream(&s);
	CHECK(mmr_vm_channel_feed(&ch, s.buf, s.len) == 0);
	CHECK(ch.ready && ch.exited && ch.exit_code == 1);
	CHECK_STR(ch.release, "6.12.117+deb12-cloud-amd64");
	CHECK_NEAR(ch.ready_uptime, 2.31, 1e-9);
	CHECK_STR(ch.report, report);
	CHECK(ch.report_len == strlen(report));
	CHECK_STR(ch.out, "table\n");
	CHECK(ch.dmesg && strstr(ch.dmesg, "Linux version"));
	CHECK(ch.pos == s.len);
	mmr_vm_channel_free(&ch);
}

/* qemu appends as the guest writes: every prefix must be "not yet", never
 * garbage, and the end result the same. */
static void test_bytewise(void)
{
	struct mmr_vm_channel ch = { 0 };
	struct stream s;

	whole_stream(&s);
	for (size_t i = 0; i <= s.len; i++) {
		CHECK(mmr_vm_channel_feed(&ch, s.buf, i) == 0);
		if (i < s.len)
			CHECK(!ch.exited);
	}
	CHECK(ch.exited && ch.report && ch.dmesg && ch.out && !ch.err[0]);
	mmr_vm_channel_free(&ch);
}

static void expect_garbage(struct stream *s, const char *what, const char *why)
{
	struct mmr_vm_channel ch = { 0 };

	if (mmr_vm_channel_feed(&ch, s->buf, s->len) != -EPROTO || !strstr(ch.err, why)) {
		fprintf(stderr, "%s: expected a protocol error with \"%s\", got \"%s\"\n", what,
			why, ch.err);
		check_failures++;
	}
	CHECK(!ch.exited || strstr(what, "after exit"));
	mmr_vm_channel_free(&ch);
}

static void test_garbage(void)
{
	struct mmr_vm_channel ch = { 0 };
	struct stream s = { .len = 0 };

	put(&s, "garbage\r\n");
	expect_garbage(&s, "not a record", "not a record at byte 0: \"garbage\\x0d\\x0a\"");

	s.len = 0;
	put_file(&s, "report", report, -1);
	expect_garbage(&s, "file before ready", "unexpected record");

	s.len = 0;
	put(&s, "MMRVM ready 6.1.0-56-cloud-amd64 2.0\n");
	put_file(&s, "report", report, 12); /* inside the deflate data */
	expect_garbage(&s, "corrupted gzip", "not whole gzip data");

	s.len = 0;
	put(&s, "MMRVM ready 6.1.0-56-cloud-amd64 2.0\n");
	put_file(&s, "report", report, -1);
	s.buf[s.len - 7] ^= 1; /* the CRC-32 in the gzip trailer */
	expect_garbage(&s, "bad CRC", "not whole gzip data");

	s.len = 0;
	put(&s, "MMRVM ready 6.1.0-56-cloud-amd64 2.0\n");
	put_file(&s, "core", "x", -1);
	expect_garbage(&s, "unknown file", "not whole gzip data of a known name");

	s.len = 0;
	put(&s, "MMRVM ready 6.1.0-56-cloud-amd64 2.0\n");
	put_file(&s, "report", report, -1);
	s.buf[s.len - 1] = 'x';
	expect_garbage(&s, "no newline after the file", "not followed by a newline");

	s.len = 0;
	put(&s, "MMRVM ready 6.1.0-56-cloud-amd64 2.0\nMMRVM exit 0\nMMRVM exit 0\n");
	expect_garbage(&s, "a record after exit", "unexpected record");

	s.len = 0;
	put(&s, "MMRVM ready 6.1 2.0\nMMRVM file report 99999999999\n");
	expect_garbage(&s, "a huge file", "file too large");

	/* a stream cut short is not garbage, just not finished */
	whole_stream(&s);
	CHECK(mmr_vm_channel_feed(&ch, s.buf, s.len - 20) == 0 && !ch.exited && !ch.err[0]);
	mmr_vm_channel_free(&ch);
}

/* Read back what the writer made: newc headers, names, data, padding. */
static void test_cpio(void)
{
	char *buf = NULL;
	size_t len = 0, off = 0;
	FILE *f = open_memstream(&buf, &len);
	struct mmr_cpio c;
	const char *want[] = { "lib", "lib/x86_64", "lib/x86_64/libz.so", "dev", "dev/ttyS1",
			       "bin", "bin/sh",	    "TRAILER!!!" };
	size_t seen = 0;

	mmr_cpio_init(&c, f);
	mmr_cpio_data(&c, "/lib/x86_64/libz.so", 0755, "hello", 5);
	mmr_cpio_dir(&c, "/lib"); /* already there: not again */
	mmr_cpio_chardev(&c, "/dev/ttyS1", 4, 65);
	mmr_cpio_symlink(&c, "/bin/sh", "busybox");
	CHECK(mmr_cpio_finish(&c) == 0);
	fclose(f);
	CHECK(len % 4 == 0);
	while (off + 110 <= len && seen < MMR_ARRAY_SIZE(want)) {
		char field[9] = "";
		unsigned long v[13];
		const char *name;

		CHECK(!memcmp(buf + off, "070701", 6));
		for (int i = 0; i < 13; i++) {
			memcpy(field, buf + off + 6 + 8 * i, 8);
			v[i] = strtoul(field, NULL, 16);
		}
		name = buf + off + 110;
		CHECK_STR(name, want[seen]);
		CHECK(v[11] == strlen(name) + 1);
		if (!strcmp(name, "lib/x86_64/libz.so")) {
			CHECK(v[1] == (S_IFREG | 0755) && v[6] == 5);
			CHECK(!memcmp(buf + ((off + 110 + v[11] + 3) & ~3UL), "hello", 5));
		} else if (!strcmp(name, "dev/ttyS1")) {
			CHECK(v[1] == (S_IFCHR | 0600) && v[9] == 4 && v[10] == 65);
		} else if (!strcmp(name, "bin/sh")) {
			CHECK(v[1] == (S_IFLNK | 0777) && v[6] == 7);
		} else if (strcmp(name, "TRAILER!!!")) {
			CHECK(v[1] == (S_IFDIR | 0755));
		}
		off = (off + 110 + v[11] + 3) & ~3UL;
		off = (off + v[6] + 3) & ~3UL;
		seen++;
	}
	CHECK(seen == MMR_ARRAY_SIZE(want) && off == len);
	free(buf);
}

int main(void)
{
	test_whole();
	test_bytewise();
	test_garbage();
	test_cpio();
	return check_done("test_vm_channel");
}
