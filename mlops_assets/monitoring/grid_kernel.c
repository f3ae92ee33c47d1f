/* The two passes of the bucketed Wasserstein distance over the current values, each in one
 * loop (see mlops_assets/monitoring/bucketed.py, which holds the same passes in NumPy and
 * falls back to them when this file cannot be compiled).
 *
 * Built by mlops_assets/monitoring/native.py with -ffp-contract=off and without -ffast-math:
 * every float operation is the IEEE one NumPy does, in the same order, so a value gets the
 * same bucket here as in NumPy, to the bit.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>

#if defined(__FAST_MATH__) || !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "the kernel needs IEEE double arithmetic without fast-math or excess precision"
#endif

#define STRIP 4096
#define BLOCK 512

/* The grid bucket of each value: ((v - center) - lo) * scale, clipped to [0, k - 1] and
 * truncated (NumPy's subtract, subtract, multiply, clip and unsafe cast), counted into
 * `counts`. A NaN or an infinity gets the bucket -1 and is not counted (the clip sends a NaN to
 * 0 first, so no conversion of a NaN to an integer happens). Strips of STRIP
 * values: the keys of a strip are computed in one vector loop, then counted from the cache.
 * Returns how many values were not finite. */
static int64_t grid_count(const double *v, int64_t n, double center, double lo, double scale,
                          int64_t k, int32_t *key, int32_t *counts) {
    const double top = (double)(k - 1);
    int64_t bad = 0;
    for (int64_t s = 0; s < n; s += STRIP) {
        const int64_t e = s + STRIP < n ? s + STRIP : n;
        int nonfinite = 0;
        for (int64_t i = s; i < e; i++) {
            const double x = v[i];
            double p = ((x - center) - lo) * scale;
            p = p > 0.0 ? p : 0.0; /* a NaN becomes 0 too: no undefined conversion below */
            p = p < top ? p : top;
            key[i] = (int32_t)p;
            nonfinite |= !(x - x == 0.0); /* NaN and infinities only */
        }
        if (nonfinite) {
            for (int64_t i = s; i < e; i++) {
                if (!isfinite(v[i])) {
                    key[i] = -1;
                    bad++;
                }
            }
        }
        for (int64_t i = s; i < e; i++) {
            const int32_t b = key[i];
            if (b >= 0) counts[b]++;
        }
    }
    return bad;
}

/* Each value's part, from its bucket's one-byte code (0: an explicit bucket, else the sign of
 * its run): the explicit values, minus `center`, go to `out` in their order; the others are
 * added as code * (v - center) into sums[0], with sums[1] its running compensation (blocks of
 * BLOCK values in four partial sums, the block sums added with Neumaier's compensation).
 * Values with the bucket -1 are skipped. Returns how many values went to `out`. */
static int64_t grid_split(const double *v, const int32_t *key, int64_t n, double center,
                          const int8_t *code, double *out, double *sums) {
    int64_t m = 0;
    double total = sums[0], comp = sums[1];
    for (int64_t s = 0; s < n; s += BLOCK) {
        const int64_t e = s + BLOCK < n ? s + BLOCK : n;
        double acc[4] = {0.0, 0.0, 0.0, 0.0};
        for (int64_t i = s; i < e; i++) {
            const int32_t b = key[i];
            if (b < 0) continue;
            const double c = v[i] - center;
            const int8_t sign = code[b];
            out[m] = c; /* kept only where the code is 0: no branch to mispredict */
            m += sign == 0;
            acc[i & 3] += sign * c; /* 0 * c adds a zero */
        }
        const double block = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        const double t = total + block;
        comp += fabs(total) >= fabs(block) ? (total - t) + block : (block - t) + total;
        total = t;
    }
    sums[0] = total;
    sums[1] = comp;
    return m;
}

/* mlops_grid_count and mlops_grid_split take a column as its chunks (`chunks[c]` holds
 * `lengths[c]` values; `key` holds the keys of all of them, in order): one call a column, so
 * the caller hands the GIL over once, not once per chunk. */
int64_t mlops_grid_count(const double *const *chunks, const int64_t *lengths, int64_t n_chunks,
                         double center, double lo, double scale, int64_t k, int32_t *key,
                         int32_t *counts) {
    int64_t bad = 0;
    for (int64_t c = 0; c < n_chunks; c++) {
        bad += grid_count(chunks[c], lengths[c], center, lo, scale, k, key, counts);
        key += lengths[c];
    }
    return bad;
}

int64_t mlops_grid_split(const double *const *chunks, const int64_t *lengths, int64_t n_chunks,
                         const int32_t *key, double center, const int8_t *code, double *out,
                         double *sums) {
    int64_t m = 0;
    for (int64_t c = 0; c < n_chunks; c++) {
        m += grid_split(chunks[c], key, lengths[c], center, code, out + m, sums);
        key += lengths[c];
    }
    return m;
}

/* The refinement's keys: each value's bucket on a grid 2**shift times finer, (v - lo) * scale
 * clipped to [0, k - 1] and truncated (NumPy's subtract, multiply, clip and unsafe cast), mapped
 * to its cell: rank[fine >> shift] * width + (fine & (2**shift - 1)) - 2**shift, where rank is
 * 1 + the rank of each dirty coarse bucket (0 for a clean one). Each cell is counted into
 * `counts`. Returns 0, or -1 as soon as a value lands in a clean coarse bucket (the caller then
 * falls back: it cannot happen with the same grid). Every value must be finite. */
int64_t mlops_grid_refine(const double *v, int64_t n, double lo, double scale, int64_t k,
                          int64_t shift, const int32_t *rank, int64_t width, int32_t *cell,
                          int32_t *counts) {
    const double top = (double)(k - 1);
    const int64_t sub = (int64_t)1 << shift;
    for (int64_t s = 0; s < n; s += STRIP) {
        const int64_t e = s + STRIP < n ? s + STRIP : n;
        for (int64_t i = s; i < e; i++) {
            double p = (v[i] - lo) * scale;
            p = p > 0.0 ? p : 0.0;
            p = p < top ? p : top;
            cell[i] = (int32_t)p;
        }
        for (int64_t i = s; i < e; i++) {
            const int64_t fine = cell[i];
            const int64_t r = rank[fine >> shift];
            if (r == 0) return -1;
            const int32_t c = (int32_t)(r * width + (fine & (sub - 1)) - sub);
            cell[i] = c;
            counts[c]++;
        }
    }
    return 0;
}
