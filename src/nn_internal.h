/* Everything internal, for the tests, fuzzers and benchmarks (never installed). The
 * library's own files include only their layer's header and those below it:
 *     base/base.h  <-  kernels/kernels.h  <-  net/net.h  <-  formats/formats.h
 *     base/base.h  <-  data/data.h  <-  formats/formats.h */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include "base/base.h"
#include "data/data.h"
#include "formats/formats.h"
#include "kernels/kernels.h"
#include "net/net.h"

#endif /* NN_INTERNAL_H */
