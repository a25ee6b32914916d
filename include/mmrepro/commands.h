/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands of the mmrepro binary: one file each (harness/cmd_*.c). */
#ifndef MMREPRO_COMMANDS_H
#define MMREPRO_COMMANDS_H

struct mmr_command {
	const char *name;
	int (*main)(int argc, char **argv); /* argv[0] is the command name */
	const char *summary;
};

int mmr_cmd_run(int argc, char **argv);
int mmr_cmd_list(int argc, char **argv);
int mmr_cmd_env(int argc, char **argv);
int mmr_cmd_restore(int argc, char **argv);
int mmr_cmd_compare(int argc, char **argv);
int mmr_cmd_report(int argc, char **argv);
int mmr_cmd_vm(int argc, char **argv);

/* The exit-code table, shared by every --help. */
extern const char mmr_exit_codes_help[];
/* The exit codes of compare (and report). */
extern const char mmr_cmp_exit_codes_help[];

#endif
