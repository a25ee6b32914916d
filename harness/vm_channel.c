// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's answers, read from the file qemu writes for its second serial
 * port. The kernel never logs there, so only /init's records appear; still,
 * nothing is trusted: every record is checked, every file is inflated with
 * zlib, which verifies gzip's CRC-32 and length, and anything else is
 * reported as the protocol break it is, with the offending bytes shown.
 */
#include "mmrepro/util.h"
#include "mmrepro/vm.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_FILE (256u << 20) /* a report is KBs to a few MBs */

static int broken(struct mmr_vm_channel *ch, const char *buf, size_t len, const char *what)
{
	char shown[64];
	size_t n = 0;

	/* show the first bytes at the break, printable or escaped */
	for (size_t i = ch->pos; i < len && n + 5 < sizeof(shown); i++) {
		unsigned char b = (unsigned char)buf[i];

		if (isprint(b))
			shown[n++] = (char)b;
		else
			n += (size_t)snprintf(shown + n, sizeof(shown) - n, "\\x%02x", b);
	}
	shown[n] = '\0';
	snprintf(ch->err, sizeof(ch->err), "report channel: %s at byte %zu: \"%s\"", what, ch->pos,
		 shown);
	return -EPROTO;
}

/* Inflate a gzip member; the trailer's CRC and length are checked by zlib. */
static int gunzip(const char *in, size_t len, char **out, size_t *outlen)
{
	z_stream z = { 0 };
	size_t cap = len * 4 + 4096, used = 0;
	char *buf = malloc(cap);
	int ret;

	if (!buf)
		return -ENOMEM;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	do {
		if (cap - used < 4096) {
			char *nb = cap < MAX_FILE ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				ret = Z_MEM_ERROR;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		z.next_out = (Bytef *)buf + used;
		z.avail_out = (uInt)(cap - used - 1);
		ret = inflate(&z, Z_NO_FLUSH);
		used = cap - 1 - z.avail_out;
	} while (ret == Z_OK);
	inflateEnd(&z);
	if (ret != Z_STREAM_END || z.avail_in) {
		free(buf);
		return -EBADMSG;
	}
	buf[used] = '\0';
	*out = buf;
	*outlen = used;
	return 0;
}

static int take_file(struct mmr_vm_channel *ch, const char *name, const char *data, size_t len)
{
	char **slot = !strcmp(name, "report")	? &ch->report
		      : !strcmp(name, "dmesg")	? &ch->dmesg
		      : !strcmp(name, "stdout") ? &ch->out
						: NULL;
	size_t *slot_len = slot == &ch->report	? &ch->report_len
			   : slot == &ch->dmesg ? &ch->dmesg_len
						: &ch->out_len;

	if (!slot || *slot)
		return -EINVAL;
	return gunzip(data, len, slot, slot_len);
}

int mmr_vm_channel_feed(struct mmr_vm_channel *ch, const char *buf, size_t len)
{
	while (ch->pos < len && !ch->err[0]) {
		const char *line = buf + ch->pos;
		const char *nl = memchr(line, '\n', len - ch->pos);
		char rec[160], name[32];
		unsigned long long size;
		size_t linelen;
		int code, end;

		if (len - ch->pos >= 6 && memcmp(line, "MMRVM ", 6))
			return broken(ch, buf, len, "not a record");
		if (!nl)
			return len - ch->pos > sizeof(rec) ? broken(ch, buf, len, "record too long")
							   : 0;
		linelen = (size_t)(nl - line);
		if (linelen >= sizeof(rec))
			return broken(ch, buf, len, "record too long");
		memcpy(rec, line, linelen);
		rec[linelen] = '\0';
		end = -1;
		if (!ch->ready &&
		    sscanf(rec, "MMRVM ready %127s %lf%n", ch->release, &ch->ready_uptime, &end) ==
			    2 &&
		    end == (int)linelen) {
			ch->ready = true;
		} else if (ch->ready && !ch->exited &&
			   sscanf(rec, "MMRVM file %31s %llu%n", name, &size, &end) == 2 &&
			   end == (int)linelen) {
			const char *data = nl + 1;

			if (size > MAX_FILE)
				return broken(ch, buf, len, "file too large");
			if ((size_t)(buf + len - data) < size + 1)
				return 0; /* not all here yet */
			if (data[size] != '\n')
				return broken(ch, buf, len, "file not followed by a newline");
			if (take_file(ch, name, data, size))
				return broken(ch, buf, len,
					      "file is not whole gzip data of a known name");
			ch->pos = (size_t)(data + size + 1 - buf);
			continue;
		} else if (ch->ready && !ch->exited &&
			   sscanf(rec, "MMRVM exit %d%n", &code, &end) == 1 &&
			   end == (int)linelen) {
			ch->exited = true;
			ch->exit_code = code;
		} else {
			return broken(ch, buf, len, "unexpected record");
		}
		ch->pos += linelen + 1;
	}
	return ch->err[0] ? -EPROTO : 0;
}

void mmr_vm_channel_free(struct mmr_vm_channel *ch)
{
	free(ch->report);
	free(ch->dmesg);
	free(ch->out);
	memset(ch, 0, sizeof(*ch));
}
