/* Fuzz targets: CHECK(x) stops the run on a broken invariant, in every build
 * (assert would vanish under NDEBUG), so the fuzzer records the input. */
#ifndef NETAGM_FUZZ_CHECK_H
#define NETAGM_FUZZ_CHECK_H

#define CHECK(x)                                                                         \
    do {                                                                                 \
        if (!(x))                                                                        \
            __builtin_trap();                                                            \
    } while (0)

#endif
