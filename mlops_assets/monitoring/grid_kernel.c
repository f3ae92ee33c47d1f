/* The two passes of the bucketed Wasserstein distance over the current values, each in one
 * loop (see mlops_assets/monitoring/bucketed.py, which holds the same passes in NumPy and
 * falls back to them when this file cannot be compiled).
 *
 * Built by mlops_assets/monitoring/native.py with -ffp-contract=off and without -ffast-math:
 * every float operation is the IEEE one NumPy does, in the same order, so a value gets the
 * same bucket here as in NumPy, to the bit.
 */
#include <math.h>
#include <stdint.h>

#define STRIP 4096
#define BLOCK 512

/* The grid bucket of each value: ((v - center) - lo) * scale, clipped to [0, k - 1] and
 * truncated (NumPy's subtract, subtract, multiply, clip and unsafe cast), counted into
 * `counts`. A NaN or an infinity gets the bucket -1 and is not counted. Strips of STRIP
 * values: the keys of a strip are computed in one vector loop, then counted from the cache.
 * Returns how many values were not finite. */
int64_t mlops_grid_count(const double *v, int64_t n, double center, double lo, double scale,
                         int64_t k, int32_t *key, int32_t *counts) {
    const double top = (double)(k - 1);
    int64_t bad = 0;
    for (int64_t s = 0; s < n; s += STRIP) {
        const int64_t e = s + STRIP < n ? s + STRIP : n;
        int nonfinite = 0;
        for (int64_t i = s; i < e; i++) {
            const double x = v[i];
            double p = ((x - center) - lo) * scale;
            p = p < 0.0 ? 0.0 : p;
            p = p > top ? top : p;
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
int64_t mlops_grid_split(const double *v, const int32_t *key, int64_t n, double center,
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
            if (sign == 0) {
                out[m++] = c;
            } else {
                acc[i & 3] += sign * c;
            }
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
