/* The numbered migrations of src/db/migrations, compiled in by cmake/Embed.cmake. */
#ifndef GR_DB_MIGRATIONS_H
#define GR_DB_MIGRATIONS_H

struct db_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct db_migration db_migrations[];
extern const int db_migrations_count;

#endif
