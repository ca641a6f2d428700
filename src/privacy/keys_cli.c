/*
 * grassroots keys rotate: a new field key for every sealed value of the data
 * directory (keys.h).
 */
#include "privacy/keys.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char keys_cli_help[] =
    "usage: grassroots keys rotate [--resume] [--data DIR]\n"
    "Makes a new field key (the key that encrypts names, ID numbers, phones and webhook\n"
    "secrets at rest), re-encrypts every sealed value with it and switches DIR/keys to\n"
    "it. The index key is kept (docs/privacy.md says why). Stop the server first, and\n"
    "make a backup with its keys file first: backups made before the rotation need\n"
    "the old keys file, which the rotation replaces.\n"
    "A rotation that was interrupted (DIR/keys.next exists; the server refuses to\n"
    "start) is finished with --resume.\n"
    "Exit status: 0 rotated, 1 failure, 2 bad usage.\n";

int keys_cli(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"resume", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *data = getenv("GR_DATA");
    keys_rotate_opts o = {0};
    keys_rotate_report rep;
    gr_err err = {0};
    const sealed_column *cols;
    size_t i;
    int c;

    if (!data || !*data)
        data = "data";
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd') {
            data = optarg;
        } else if (c == 'r') {
            o.resume = 1;
        } else if (c == 'h') {
            fputs(keys_cli_help, stdout);
            return 0;
        } else {
            fputs(keys_cli_help, stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || strcmp(argv[optind], "rotate") != 0) {
        fputs(keys_cli_help, stderr);
        return 2;
    }
    if (keys_rotate(data, &o, &rep, &err)) {
        fprintf(stderr, "grassroots: keys rotate: %s%s%s\n", err.field, err.field[0] ? ": " : "",
                err.msg);
        return 1;
    }
    cols = sealed_columns;
    for (i = 0; i < rep.ncols; i++)
        printf("%-48s %8lld values, %8lld re-encrypted\n", cols[i].name, (long long)rep.total[i],
               (long long)rep.resealed[i]);
    printf("the field key of %s is rotated%s\n", data, rep.resumed ? " (resumed)" : "");
    return 0;
}
