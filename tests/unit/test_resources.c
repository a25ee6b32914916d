// SPDX-License-Identifier: GPL-2.0
/*
 * Objects that outlive their creator: a SysV segment, a file and a directory
 * (with the shared parent it was made in) recorded by a process that then
 * dies (SIGKILL) are removed by mmr_resources_reclaim; one
 * whose creator still runs has its process group killed first; removing an
 * object normally leaves no record behind. Runs in its own state directory.
 */
#include "check.h"
#include "mmrepro/resources.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct made {
	key_t key;
	int shmid;
	pid_t pid;
};

static char file_path[700], parent_path[512], dir_path[600];

static bool segment_exists(key_t key)
{
	return shmget(key, 0, 0) >= 0;
}

static int records(void)
{
	DIR *d = opendir(mmr_state_dir());
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += !strncmp(e->d_name, "resources-", 10);
	if (d)
		closedir(d);
	return n;
}

/* In a child: record and create a segment, a file and a directory, report, then stay
 * (in a group of its own) or die by SIGKILL. */
static struct made make_and(bool stay)
{
	struct made m = { 0 };
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return m;
	pid = fork();
	if (pid == 0) {
		int fd;

		setpgid(0, 0);
		m.shmid = mmr_shm_create(1 << 20, 0, &m.key);
		if (m.shmid < 0 || mmr_resource_file_add(file_path) ||
		    mmr_resource_dir_add(dir_path, parent_path))
			_exit(1);
		if (mkdir(parent_path, 0755) || mkdir(dir_path, 0755))
			_exit(1);
		fd = open(file_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		m.pid = getpid();
		if (write(fds[1], &m, sizeof(m)) != sizeof(m))
			_exit(1);
		if (stay)
			for (;;)
				pause();
		raise(SIGKILL);
	}
	close(fds[1]);
	if (read(fds[0], &m, sizeof(m)) != sizeof(m))
		m.pid = 0;
	close(fds[0]);
	if (!stay)
		waitpid(pid, NULL, 0);
	return m;
}

int main(void)
{
	char dir[] = "/tmp/mmrepro-resources-XXXXXX";
	json_t *log = json_array();
	struct made m;
	key_t key;
	int id, st;

	if (!mkdtemp(dir))
		return 1;
	setenv("MMREPRO_STATE_DIR", dir, 1);
	snprintf(file_path, sizeof(file_path), "%s/leftover", dir);
	snprintf(parent_path, sizeof(parent_path), "%s/shared", dir);
	snprintf(dir_path, sizeof(dir_path), "%s/own", parent_path);
	id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id < 0)
		SKIP("no SysV shared memory here");
	shmctl(id, IPC_RMID, NULL);

	/* created and removed normally: nothing recorded remains */
	id = mmr_shm_create(1 << 20, 0, &key);
	CHECK(id >= 0 && segment_exists(key) && records() == 1);
	CHECK(mmr_shm_remove(id, key) == 0);
	CHECK(!segment_exists(key) && records() == 0);
	CHECK(mmr_resources_reclaim(log) == 0 && json_array_size(log) == 0);

	/* the creator was SIGKILLed: every object and the record go */
	m = make_and(false);
	CHECK(m.pid > 0 && segment_exists(m.key) && mmr_path_exists(file_path) && records() == 1);
	CHECK(mmr_path_exists(dir_path));
	CHECK(mmr_resources_reclaim(log) == 3);
	CHECK(!segment_exists(m.key) && !mmr_path_exists(file_path) && records() == 0);
	CHECK(!mmr_path_exists(dir_path) && !mmr_path_exists(parent_path));
	CHECK(json_array_size(log) == 3);

	/* the creator still runs (a case of a killed mmrepro): killed first */
	m = make_and(true);
	CHECK(m.pid > 0 && segment_exists(m.key));
	CHECK(mmr_resources_reclaim(NULL) == 3);
	CHECK(waitpid(m.pid, &st, 0) == m.pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK(!segment_exists(m.key) && !mmr_path_exists(file_path) && records() == 0);

	/* a key that now names someone else's segment is left alone */
	m = make_and(false);
	CHECK(m.pid > 0);
	id = shmget(m.key, 0, 0);
	shmctl(id, IPC_RMID, NULL);
	id = shmget(m.key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	CHECK(id >= 0);
	/* a shared parent something else is in stays */
	CHECK(mkdir(parent_path, 0755) == 0 || errno == EEXIST);
	snprintf(file_path, sizeof(file_path), "%s/other", parent_path);
	CHECK(mkdir(file_path, 0755) == 0);
	CHECK(mmr_resources_reclaim(NULL) == 2); /* the file and the directory */
	CHECK(segment_exists(m.key) && records() == 0);
	CHECK(!mmr_path_exists(dir_path) && mmr_path_exists(parent_path));
	shmctl(id, IPC_RMID, NULL);
	rmdir(file_path);
	rmdir(parent_path);

	json_decref(log);
	rmdir(dir);
	return check_done("test_resources");
}
