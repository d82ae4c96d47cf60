// CLMDB: Debian's liblmdb (0.9.x), seen by Swift through this one header.
//
// Caveats that every caller inside TernSystem must honour (from lmdb.h):
//  - A write transaction belongs to the thread that began it; we open the environment with MDB_NOTLS so
//    read transactions are not tied to threads, but every transaction is still used by one thread at a time.
//  - Only one write transaction at a time per environment (LMDB serialises them with its own mutex).
//  - Do not keep read transactions open for long: they pin pages and make the file grow.
//  - Do not use an environment across fork(); do not open one on a network filesystem.
//  - Pointers returned by mdb_get / cursor ops are valid only until the transaction ends or the next write.
#ifndef TERN_CLMDB_SHIM_H
#define TERN_CLMDB_SHIM_H
#include <lmdb.h>
#endif
