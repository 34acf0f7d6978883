#ifndef VIGIE_CSQLITE_SHIM_H
#define VIGIE_CSQLITE_SHIM_H
// SQLite 3 (Debian 12: libsqlite3-dev).
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: SQLite copies the bound value.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
