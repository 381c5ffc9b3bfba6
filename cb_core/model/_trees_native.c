/* The margins pass of cb_core/model/_trees_kernel.py (numba) in C, compiled once per machine and loaded with
 * ctypes (cb_core/model/_trees_fast.py, built as every C kernel of the engine is: cb_core/native.py), so a
 * process that scores a big book pays neither numba's import nor its kernel load (1.2-3 s).
 *
 * Line for line the numba kernel: a block of rows is transposed (features as rows, values within 1e-35 of zero
 * made 0), then tree by tree, in the trees' order, every row's leaf is found and its value added to the row's one
 * accumulator, so a margin is the same sum in the same order (bit for bit; tests/model/test_trees_native.py). A
 * tree of up to 64 leaves is QuickScorer (a bit per leaf; every split a row fails clears its left subtree's
 * leaves; the lowest bit left is the leaf); wider trees are walked. Decisions are LightGBM's Tree::Decision.
 * Blocks of rows are shared among POSIX threads taking the next block from a shared counter.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define KIND_ZERO 1
#define KIND_CATEGORICAL 3
#define SINGLE 0
#define BITS 1
/* numpy's float(np.float32(1e-35)) */
#define ZERO_THRESHOLD ((double)1e-35f)

/* The arrays of _trees_fast.flatten, in its order; ctypes mirrors it. */
typedef struct {
    int64_t n_trees;
    const int64_t *tree_type, *tree_n0, *tree_nn, *tree_l0;
    const uint64_t *tree_all;
    const int64_t *feat;
    const double *thr;
    const int8_t *kind;
    const uint8_t *default_left, *nan_left;
    const int64_t *cat_row;
    const uint64_t *keep;
    const int64_t *left, *right;
    const double *leaf_value;
    const uint8_t *cat_mask;
    int64_t cat_width; /* cat_mask's second dimension */
} trees_t;

int64_t cb_trees_size(void) { return (int64_t)sizeof(trees_t); }

static inline int go_left(double v, int64_t k, double th, int dl, int nl, int64_t row, const trees_t *t) {
    if (k == KIND_CATEGORICAL) {
        int64_t width = t->cat_width - 1; /* codes at or past it are unknown: right */
        /* truncation toward zero; NaN, negative and unknown codes go right */
        return (v > -1.0 && v < (double)width) ? t->cat_mask[row * t->cat_width + (int64_t)v] != 0 : 0;
    }
    if (v != v) return nl;
    if (k == KIND_ZERO && v == 0.0) return dl;
    return v <= th;
}

static void margins_block(const double *X, double *out, int64_t m, int64_t lo, int64_t nb, const trees_t *t,
                          double *xt, double *acc, uint64_t *bits) {
    for (int64_t r = 0; r < nb; r++)
        for (int64_t j = 0; j < m; j++) {
            double v = X[(lo + r) * m + j];
            xt[j * nb + r] = (v <= ZERO_THRESHOLD && v >= -ZERO_THRESHOLD) ? 0.0 : v;
        }
    for (int64_t r = 0; r < nb; r++) acc[r] = 0.0;
    for (int64_t tr = 0; tr < t->n_trees; tr++) {
        int64_t l0 = t->tree_l0[tr];
        if (t->tree_type[tr] == SINGLE) {
            for (int64_t r = 0; r < nb; r++) acc[r] += t->leaf_value[l0];
        } else if (t->tree_type[tr] == BITS) {
            for (int64_t r = 0; r < nb; r++) bits[r] = t->tree_all[tr];
            for (int64_t g = t->tree_n0[tr]; g < t->tree_n0[tr] + t->tree_nn[tr]; g++) {
                const double *x = xt + t->feat[g] * nb;
                int64_t k = t->kind[g];
                double th = t->thr[g];
                uint64_t kp = t->keep[g], dl = t->default_left[g] != 0, nl = t->nan_left[g] != 0, full = ~(uint64_t)0;
                if (k == KIND_CATEGORICAL) {
                    for (int64_t r = 0; r < nb; r++)
                        if (!go_left(x[r], k, th, 0, 0, t->cat_row[g], t)) bits[r] &= kp;
                } else if (k == KIND_ZERO) {
                    for (int64_t r = 0; r < nb; r++) {
                        double v = x[r];
                        uint64_t missing = (uint64_t)(v != v) | (uint64_t)(v == 0.0);
                        uint64_t go = ((uint64_t)(v <= th) & (missing ^ 1)) | (missing & dl);
                        bits[r] &= kp | (full * go);
                    }
                } else {
                    for (int64_t r = 0; r < nb; r++) {
                        double v = x[r];
                        uint64_t go = (uint64_t)(v <= th) | ((uint64_t)(v != v) & nl);
                        bits[r] &= kp | (full * go);
                    }
                }
            }
            for (int64_t r = 0; r < nb; r++) acc[r] += t->leaf_value[l0 + __builtin_ctzll(bits[r])];
        } else {
            int64_t n0 = t->tree_n0[tr];
            for (int64_t r = 0; r < nb; r++) {
                int64_t node = 0;
                for (;;) {
                    int64_t g = n0 + node;
                    int go = go_left(xt[t->feat[g] * nb + r], t->kind[g], t->thr[g], t->default_left[g] != 0,
                                     t->nan_left[g] != 0, t->cat_row[g], t);
                    int64_t child = go ? t->left[g] : t->right[g];
                    if (child < 0) {
                        acc[r] += t->leaf_value[l0 + ~child];
                        break;
                    }
                    node = child;
                }
            }
        }
    }
    for (int64_t r = 0; r < nb; r++) out[lo + r] = acc[r];
}

typedef struct {
    const double *X;
    double *out;
    int64_t n, m, block, n_blocks, next;
    const trees_t *t;
    int failed;
} job_t;

static void *run_job(void *arg) {
    job_t *job = (job_t *)arg;
    double *xt = malloc((size_t)(job->m ? job->m : 1) * (size_t)job->block * sizeof(double));
    double *acc = malloc((size_t)job->block * sizeof(double));
    uint64_t *bits = malloc((size_t)job->block * sizeof(uint64_t));
    if (!xt || !acc || !bits) {
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        free(xt), free(acc), free(bits);
        return NULL;
    }
    for (;;) {
        int64_t b = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (b >= job->n_blocks) break;
        int64_t lo = b * job->block, nb = lo + job->block < job->n ? job->block : job->n - lo;
        margins_block(job->X, job->out, job->m, lo, nb, job->t, xt, acc, bits);
    }
    free(xt), free(acc), free(bits);
    return NULL;
}

/* out[r] = the sum over the trees, in order, of the leaf value row r of X (n x m, C order) falls in. 0, or -1
 * when working memory could not be had. */
int cb_tree_margins(const double *X, int64_t n, int64_t m, double *out, int64_t block, int64_t n_threads,
                    const trees_t *t) {
    job_t job = {X, out, n, m, block, (n + block - 1) / block, 0, t, 0};
    if (n_threads > job.n_blocks) n_threads = job.n_blocks;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 256) n_threads = 256;
    pthread_t threads[256];
    int64_t started = 0;
    for (int64_t i = 1; i < n_threads; i++) {
        if (pthread_create(&threads[started], NULL, run_job, &job) != 0) break; /* fewer threads do the rest */
        started++;
    }
    run_job(&job); /* the calling thread works too */
    for (int64_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    return job.failed ? -1 : 0;
}
