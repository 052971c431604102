// Global operator new/delete on mimalloc, so the whole process uses one allocator.
// Linked into programs only: the test binaries replace operator new to count it.
#include <mimalloc-new-delete.h>
