/* The row passes of cb_core/explain/_fastshap_kernels.py (numba) in C, compiled once per machine
 * ahead of the first explanation (cb_core/explain/_fastshap_native.py) and loaded with ctypes, so a
 * process that explains pays neither numba's import nor its kernel load (0.35 s of a 50,000-merchant
 * `score --explain`).
 *
 * Line for line the numba kernels, in the same order of floating-point operations (no fast-math, no
 * contraction into fused multiply-adds: the build passes -ffp-contract=off), so both give the same
 * contributions bit for bit; tests/explain/test_fastshap_native.py holds them to that. Parallel over
 * blocks of rows with POSIX threads taking the next block from a shared counter (numba's prange with
 * chunks of 1). Called through ctypes, which releases the interpreter lock for the call.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALGO_TABLE 0
#define ALGO_RECURSIVE 1
#define NUMERIC_NONE 0
#define NUMERIC_ZERO 1
#define NUMERIC_NAN 2
#define CATEGORICAL 3
#define FEW_ROWS 4
/* LightGBM's kZeroThreshold (1e-35f widened to double) */
#define ZERO_THRESHOLD ((double)1e-35f)

/* A Forest's arrays (cb_core/explain/_fastshap_parse.py), in kernel_args order; ctypes mirrors it. */
typedef struct {
    double bias;
    const int64_t *tree_algo, *tree_n0, *tree_nint, *tree_l0, *tree_u0, *tree_nunit;
    int64_t n_trees, max_nodes, max_depth;
    const int64_t *feat;
    const double *thr;
    const int64_t *kind;
    const uint8_t *default_left;
    const int64_t *cat_row;
    const uint8_t *cat_mask;
    int64_t cat_width; /* cat_mask's second dimension */
    const int64_t *left, *right, *uleft, *uright;
    const double *node_count;
    const int64_t *bit, *setbit, *pair_unit, *pairbit;
    const double *leaf_value, *leaf_count;
    const int64_t *unit_eoff, *unit_ne, *e_feat, *e_toff, *e_test, *e_clear;
    const double *e_coef, *tables;
} forest_t;

/* LightGBM's Tree::Decision on a raw feature value (goes_left of _fastshap_recursive.py). */
static inline int goes_left(double value, int64_t kind, double threshold, int default_left, int64_t cat_row,
                            const forest_t *f) {
    if (value <= ZERO_THRESHOLD && value >= -ZERO_THRESHOLD) value = 0.0;
    if (kind == CATEGORICAL) {
        if (!(value > -2147483649.0 && value < 2147483648.0)) return 0;
        int64_t code = (int64_t)value;
        if (code < 0 || code >= f->cat_width) return 0;
        return f->cat_mask[cat_row * f->cat_width + code] != 0;
    }
    if (value != value) {
        if (kind == NUMERIC_NAN) return default_left;
        value = 0.0;
    }
    if (kind == NUMERIC_ZERO && value == 0.0) return default_left;
    return value <= threshold;
}

/* ------------------------------------------------------------ the recursion (Algorithm 2) */

static inline void extend(int64_t *pf, double *pz, double *po, double *pw, int64_t base, int64_t depth, double zero,
                          double one, int64_t feature) {
    pf[base + depth] = feature;
    pz[base + depth] = zero;
    po[base + depth] = one;
    pw[base + depth] = depth == 0 ? 1.0 : 0.0;
    for (int64_t i = depth - 1; i >= 0; i--) {
        pw[base + i + 1] += one * pw[base + i] * (double)(i + 1) / (double)(depth + 1);
        pw[base + i] = zero * pw[base + i] * (double)(depth - i) / (double)(depth + 1);
    }
}

static inline void unwind(int64_t *pf, double *pz, double *po, double *pw, int64_t base, int64_t depth, int64_t index) {
    double one = po[base + index], zero = pz[base + index], next_one = pw[base + depth];
    for (int64_t i = depth - 1; i >= 0; i--) {
        if (one != 0.0) {
            double tmp = pw[base + i];
            pw[base + i] = next_one * (double)(depth + 1) / ((double)(i + 1) * one);
            next_one = tmp - pw[base + i] * zero * (double)(depth - i) / (double)(depth + 1);
        } else {
            pw[base + i] = pw[base + i] * (double)(depth + 1) / (zero * (double)(depth - i));
        }
    }
    for (int64_t i = index; i < depth; i++) {
        pf[base + i] = pf[base + i + 1];
        pz[base + i] = pz[base + i + 1];
        po[base + i] = po[base + i + 1];
    }
}

static inline double unwound_sum(const double *pz, const double *po, const double *pw, int64_t base, int64_t depth,
                                 int64_t index) {
    double one = po[base + index], zero = pz[base + index], next_one = pw[base + depth], total = 0.0;
    for (int64_t i = depth - 1; i >= 0; i--) {
        if (one != 0.0) {
            double tmp = next_one * (double)(depth + 1) / ((double)(i + 1) * one);
            total += tmp;
            next_one = pw[base + i] - tmp * zero * ((double)(depth - i) / (double)(depth + 1));
        } else {
            total += (pw[base + i] / zero) / ((double)(depth - i) / (double)(depth + 1));
        }
    }
    return total;
}

typedef struct {
    int64_t *pf, *st_node, *st_level, *st_depth, *st_feat;
    double *pz, *po, *pw, *st_zero, *st_one;
    int64_t width;
} path_t;

static void recursive_tree(const double *x, double *phi, int64_t n0, int64_t l0, const forest_t *f, path_t *s) {
    int64_t *pf = s->pf;
    double *pz = s->pz, *po = s->po, *pw = s->pw;
    int64_t width = s->width, top = 0;
    s->st_node[0] = 0; s->st_level[0] = 0; s->st_depth[0] = 0;
    s->st_zero[0] = 1.0; s->st_one[0] = 1.0; s->st_feat[0] = -1;
    while (top >= 0) {
        int64_t node = s->st_node[top], level = s->st_level[top], depth = s->st_depth[top];
        double zero = s->st_zero[top], one = s->st_one[top];
        int64_t feature = s->st_feat[top];
        top -= 1;
        int64_t base = level * width;
        if (depth > 0) {
            int64_t parent = base - width;
            for (int64_t i = 0; i < depth; i++) {
                pf[base + i] = pf[parent + i];
                pz[base + i] = pz[parent + i];
                po[base + i] = po[parent + i];
                pw[base + i] = pw[parent + i];
            }
        }
        extend(pf, pz, po, pw, base, depth, zero, one, feature);
        if (node < 0) {
            double value = f->leaf_value[l0 + ~node];
            for (int64_t i = 1; i <= depth; i++) {
                double w = unwound_sum(pz, po, pw, base, depth, i);
                phi[pf[base + i]] += w * (po[base + i] - pz[base + i]) * value;
            }
            continue;
        }
        int64_t n = n0 + node, split = f->feat[n], hot, cold;
        if (goes_left(x[split], f->kind[n], f->thr[n], f->default_left[n], f->cat_row[n], f)) {
            hot = f->left[n]; cold = f->right[n];
        } else {
            hot = f->right[n]; cold = f->left[n];
        }
        double cover = f->node_count[n];
        double hot_zero = (hot >= 0 ? f->node_count[n0 + hot] : f->leaf_count[l0 + ~hot]) / cover;
        double cold_zero = (cold >= 0 ? f->node_count[n0 + cold] : f->leaf_count[l0 + ~cold]) / cover;
        double in_zero = 1.0, in_one = 1.0;
        int64_t index = 0;
        while (index <= depth && pf[base + index] != split) index++;
        if (index != depth + 1) {
            in_zero = pz[base + index];
            in_one = po[base + index];
            unwind(pf, pz, po, pw, base, depth, index);
            depth -= 1;
        }
        top += 1;
        s->st_node[top] = cold; s->st_level[top] = level + 1; s->st_depth[top] = depth + 1;
        s->st_zero[top] = cold_zero * in_zero; s->st_one[top] = 0.0; s->st_feat[top] = split;
        top += 1;
        s->st_node[top] = hot; s->st_level[top] = level + 1; s->st_depth[top] = depth + 1;
        s->st_zero[top] = hot_zero * in_zero; s->st_one[top] = in_one; s->st_feat[top] = split;
    }
}

/* ------------------------------------------------------------ pattern tables */

/* The inner loops over a block's rows, their arrays declared unaliased so they vectorise. */
static inline void split_patterns(const int64_t *restrict src, int64_t *restrict dst_l, int64_t *restrict dst_r,
                                  const int64_t *restrict go, int64_t nb, int64_t b, int64_t sb) {
    for (int64_t r = 0; r < nb; r++) {
        int64_t p = src[r] | sb, g = go[r];
        dst_l[r] = p & ~(b & (g - 1));
        dst_r[r] = p & ~(b & -g);
    }
}

static inline void add_unit(double *restrict ph, const int64_t *restrict pats, const double *restrict tables,
                            int64_t nb, int64_t toff, int64_t test, int64_t clear, double unsat, double sat) {
    for (int64_t r = 0; r < nb; r++) {
        int64_t a = pats[r];
        ph[r] += ((a & test) ? sat : unsat) * tables[(uint64_t)(toff + (a & clear))];
    }
}

/* Each row's side at one split: go[r] is 1 for left (LightGBM's decision on a row's zero-thresholded
 * value; `width` codes in the split's bitset row `mask`, whose last entry is 0: other codes go right). */
static inline void decide(const double *restrict x, int64_t *restrict go, int64_t nb, int64_t k, double th, int64_t dl,
                          const uint8_t *restrict mask, int64_t width) {
    if (k == NUMERIC_NAN) {
        for (int64_t r = 0; r < nb; r++) {
            double v = x[r];
            go[r] = (int64_t)(v <= th) | ((int64_t)(v != v) & dl);
        }
    } else if (k == NUMERIC_NONE) {
        int64_t zl = (int64_t)(0.0 <= th); /* LightGBM reads NaN as 0 here */
        for (int64_t r = 0; r < nb; r++) {
            double v = x[r];
            go[r] = (int64_t)(v <= th) | ((int64_t)(v != v) & zl);
        }
    } else if (k == NUMERIC_ZERO) {
        for (int64_t r = 0; r < nb; r++) {
            double v = x[r];
            int64_t missing = (int64_t)(v != v) | (int64_t)(v == 0.0);
            go[r] = ((int64_t)(v <= th) & (missing ^ 1)) | (missing & dl);
        }
    } else {
        for (int64_t r = 0; r < nb; r++) {
            double v = x[r];
            /* truncation toward zero like LightGBM's static_cast<int>; NaN and negative codes go right */
            int64_t code = (v > -1.0 && v < (double)width) ? (int64_t)v : width;
            go[r] = (int64_t)mask[code];
        }
    }
}

/* Which child each row reaching node `here` goes to (masks: -1 reached, 0 not), and for a leaf child its
 * value into `leaf`: the row's leaf in this tree, found with the decisions the explanation makes anyway. */
static inline void reach_child(const int64_t *restrict here, const int64_t *restrict go, int64_t nb, int64_t child,
                               int left, int64_t *reach, int64_t stride, double *restrict leaf, double value) {
    if (child >= 0) {
        int64_t *restrict to = reach + child * stride;
        for (int64_t r = 0; r < nb; r++) to[r] = here[r] & (left ? -go[r] : go[r] - 1);
    } else {
        for (int64_t r = 0; r < nb; r++) leaf[r] = (here[r] & (left ? -go[r] : go[r] - 1)) ? value : leaf[r];
    }
}

/* One tree for a block of nb rows; xt, phit, node_pat and unit_pat hold a row of `stride` values per
 * feature or node (the block's rows first). With `reach`, each row's leaf value goes into `leaf`. */
static void table_tree(const double *xt, double *phit, int64_t nb, int64_t stride, int64_t n0, int64_t n_int,
                       int64_t u0, int64_t n_units, const forest_t *f, int64_t *node_pat, int64_t *unit_pat,
                       int64_t *go, int64_t *reach, double *leaf, int64_t l0) {
    int64_t *root = node_pat;
    for (int64_t r = 0; r < nb; r++) root[r] = 0;
    if (reach != NULL)
        for (int64_t r = 0; r < nb; r++) reach[r] = -1;
    for (int64_t i = 0; i < n_int; i++) {
        int64_t n = n0 + i;
        decide(xt + f->feat[n] * stride, go, nb, f->kind[n], f->thr[n], f->default_left[n],
               f->cat_mask + (f->kind[n] == CATEGORICAL ? f->cat_row[n] * f->cat_width : 0), f->cat_width - 1);
        if (reach != NULL) {
            int64_t c = f->left[n];
            reach_child(reach + i * stride, go, nb, c, 1, reach, stride, leaf, c < 0 ? f->leaf_value[l0 + ~c] : 0.0);
            c = f->right[n];
            reach_child(reach + i * stride, go, nb, c, 0, reach, stride, leaf, c < 0 ? f->leaf_value[l0 + ~c] : 0.0);
        }
        const int64_t *src = node_pat + i * stride;
        int64_t pu = f->pair_unit[n];
        if (pu >= 0) {
            /* two leaf children explained together: their unit pattern is the node's plus the decision */
            int64_t *dst = unit_pat + pu * stride;
            int64_t pb = f->pairbit[n];
            for (int64_t r = 0; r < nb; r++) dst[r] = src[r] | (pb & -go[r]);
            continue;
        }
        int64_t b = f->bit[n], sb = f->setbit[n], c;
        c = f->uleft[n];
        int64_t *dst_l = c >= 0 ? node_pat + c * stride : unit_pat + (~c) * stride;
        c = f->uright[n];
        int64_t *dst_r = c >= 0 ? node_pat + c * stride : unit_pat + (~c) * stride;
        split_patterns(src, dst_l, dst_r, go, nb, b, sb);
    }
    for (int64_t j = 0; j < n_units; j++) {
        int64_t u = u0 + j;
        const int64_t *pats = unit_pat + j * stride;
        for (int64_t e = f->unit_eoff[u]; e < f->unit_eoff[u] + f->unit_ne[u]; e++) {
            add_unit(phit + f->e_feat[e] * stride, pats, f->tables, nb, f->e_toff[e], f->e_test[e], ~f->e_clear[e],
                     f->e_coef[2 * e], f->e_coef[2 * e + 1]);
        }
    }
}

/* table_tree for a single row (the block version's per-loop set-up dominates there). */
static void table_tree_row(const double *x, double *phi, int64_t n0, int64_t n_int, int64_t u0, int64_t n_units,
                           const forest_t *f, int64_t *node_pat, int64_t *unit_pat) {
    node_pat[0] = 0;
    for (int64_t i = 0; i < n_int; i++) {
        int64_t n = n0 + i;
        int64_t go = goes_left(x[f->feat[n]], f->kind[n], f->thr[n], f->default_left[n], f->cat_row[n], f);
        int64_t src = node_pat[i], pu = f->pair_unit[n];
        if (pu >= 0) {
            unit_pat[pu] = src | (f->pairbit[n] & -go);
            continue;
        }
        int64_t p = src | f->setbit[n], b = f->bit[n], c;
        c = f->uleft[n];
        if (c >= 0) node_pat[c] = p & ~(b & (go - 1));
        else unit_pat[~c] = p & ~(b & (go - 1));
        c = f->uright[n];
        if (c >= 0) node_pat[c] = p & ~(b & -go);
        else unit_pat[~c] = p & ~(b & -go);
    }
    for (int64_t j = 0; j < n_units; j++) {
        int64_t u = u0 + j, a = unit_pat[j];
        for (int64_t e = f->unit_eoff[u]; e < f->unit_eoff[u] + f->unit_ne[u]; e++) {
            double coef = (a & f->e_test[e]) ? f->e_coef[2 * e + 1] : f->e_coef[2 * e];
            phi[f->e_feat[e]] += coef * f->tables[(uint64_t)(f->e_toff[e] + (a & ~f->e_clear[e]))];
        }
    }
}

/* The value of the leaf one row reaches in tree t (its raw margin's term). */
static inline double leaf_of(const double *x, const forest_t *f, int64_t t) {
    int64_t node = 0, n0 = f->tree_n0[t];
    if (f->tree_nint[t] == 0) return f->leaf_value[f->tree_l0[t]];
    for (;;) {
        int64_t g = n0 + node;
        node = goes_left(x[f->feat[g]], f->kind[g], f->thr[g], f->default_left[g], f->cat_row[g], f) ? f->left[g]
                                                                                                     : f->right[g];
        if (node < 0) return f->leaf_value[f->tree_l0[t] + ~node];
    }
}

/* ------------------------------------------------------------ blocks of rows */

/* One thread's working memory, for blocks of up to `stride` rows. */
typedef struct {
    int64_t stride;
    double *xt, *phit, *x, *phi, *leaf, *margin;
    int64_t *node_pat, *unit_pat, *go, *row_nodes, *row_units, *reach;
    path_t path;
    void *mem;
} work_t;

static int work_init(work_t *w, const forest_t *f, int64_t n_features, int64_t stride) {
    int64_t nodes = f->max_nodes + 1, width = f->max_depth + 2, stack = 2 * width + 2;
    size_t doubles = (size_t)(n_features * stride + (n_features + 1) * stride + n_features + (n_features + 1)
                              + 2 * stride + 3 * width * width + 2 * stack);
    size_t ints = (size_t)(3 * nodes * stride + stride + 2 * nodes + width * width + 4 * stack);
    w->mem = calloc(doubles + ints, 8);
    if (w->mem == NULL) return -1;
    double *d = (double *)w->mem;
    w->stride = stride;
    w->xt = d; d += n_features * stride;
    w->phit = d; d += (n_features + 1) * stride;
    w->x = d; d += n_features;
    w->phi = d; d += n_features + 1;
    w->leaf = d; d += stride;
    w->margin = d; d += stride;
    w->path.pz = d; d += width * width;
    w->path.po = d; d += width * width;
    w->path.pw = d; d += width * width;
    w->path.st_zero = d; d += stack;
    w->path.st_one = d; d += stack;
    int64_t *i = (int64_t *)d;
    w->node_pat = i; i += nodes * stride;
    w->unit_pat = i; i += nodes * stride;
    w->go = i; i += stride;
    w->reach = i; i += nodes * stride;
    w->row_nodes = i; i += nodes;
    w->row_units = i; i += nodes;
    w->path.pf = i; i += width * width;
    w->path.st_node = i; i += stack;
    w->path.st_level = i; i += stack;
    w->path.st_depth = i; i += stack;
    w->path.st_feat = i;
    w->path.width = width;
    return 0;
}

/* Contributions of rows r0..r1 into out and, unless `margins` is NULL, their raw margins: per row the
 * trees' leaf values summed in order, as LightGBM adds them. */
static void explain_block(const double *X, double *out, double *margins, int64_t n_features, int64_t r0,
                          int64_t r1, const forest_t *f, work_t *w) {
    int64_t nb = r1 - r0, stride = w->stride;
    double *xt = w->xt, *phit = w->phit, *x = w->x, *phi = w->phi, *mt = w->margin;
    for (int64_t r = 0; r < nb; r++) mt[r] = 0.0;
    /* the block transposed, values LightGBM drops from dense rows (|x| <= 1e-35) as 0 */
    for (int64_t r = 0; r < nb; r++)
        for (int64_t c = 0; c < n_features; c++) {
            double v = X[(r0 + r) * n_features + c];
            xt[c * stride + r] = (v <= ZERO_THRESHOLD && v >= -ZERO_THRESHOLD) ? 0.0 : v;
        }
    for (int64_t c = 0; c <= n_features; c++)
        for (int64_t r = 0; r < nb; r++) phit[c * stride + r] = 0.0;
    if (nb < FEW_ROWS) {
        /* row by row: the vectorised loops' set-up would cost more than the work */
        for (int64_t r = 0; r < nb; r++) {
            for (int64_t c = 0; c < n_features; c++) {
                x[c] = xt[c * stride + r];
                phi[c] = 0.0;
            }
            for (int64_t t = 0; t < f->n_trees; t++) {
                if (f->tree_algo[t] == ALGO_TABLE)
                    table_tree_row(x, phi, f->tree_n0[t], f->tree_nint[t], f->tree_u0[t], f->tree_nunit[t], f,
                                   w->row_nodes, w->row_units);
                else if (f->tree_algo[t] == ALGO_RECURSIVE)
                    recursive_tree(x, phi, f->tree_n0[t], f->tree_l0[t], f, &w->path);
                if (margins != NULL) mt[r] += leaf_of(x, f, t);
            }
            for (int64_t c = 0; c < n_features; c++) phit[c * stride + r] = phi[c];
        }
    } else {
        for (int64_t t = 0; t < f->n_trees; t++) {
            int64_t algo = f->tree_algo[t];
            if (algo == ALGO_TABLE) {
                table_tree(xt, phit, nb, stride, f->tree_n0[t], f->tree_nint[t], f->tree_u0[t], f->tree_nunit[t], f,
                           w->node_pat, w->unit_pat, w->go, margins != NULL ? w->reach : NULL, w->leaf,
                           f->tree_l0[t]);
                if (margins != NULL)
                    for (int64_t r = 0; r < nb; r++) mt[r] += w->leaf[r];
                continue;
            }
            if (margins != NULL)
                for (int64_t r = 0; r < nb; r++) {
                    for (int64_t c = 0; c < n_features; c++) x[c] = xt[c * stride + r];
                    mt[r] += leaf_of(x, f, t);
                }
            if (algo == ALGO_RECURSIVE) {
                for (int64_t r = 0; r < nb; r++) {
                    for (int64_t c = 0; c < n_features; c++) {
                        x[c] = xt[c * stride + r];
                        phi[c] = 0.0;
                    }
                    recursive_tree(x, phi, f->tree_n0[t], f->tree_l0[t], f, &w->path);
                    for (int64_t c = 0; c < n_features; c++) phit[c * stride + r] += phi[c];
                }
            }
        }
    }
    for (int64_t r = 0; r < nb; r++) {
        for (int64_t c = 0; c < n_features; c++) out[(r0 + r) * (n_features + 1) + c] = phit[c * stride + r];
        out[(r0 + r) * (n_features + 1) + n_features] = f->bias;
    }
    if (margins != NULL)
        for (int64_t r = 0; r < nb; r++) margins[r0 + r] = mt[r];
}

/* Raw margins of rows r0..r1: per row the trees' leaf values summed in order, as LightGBM adds them. */
static void margins_block(const double *X, double *out, int64_t n_features, int64_t r0, int64_t r1,
                          const forest_t *f) {
    for (int64_t r = r0; r < r1; r++) {
        double total = 0.0;
        for (int64_t t = 0; t < f->n_trees; t++) total += leaf_of(X + r * n_features, f, t);
        out[r] = total;
    }
}

/* ------------------------------------------------------------ threads */

typedef struct {
    const double *X;
    double *out, *margins; /* contributions (NULL: margins alone), margins (NULL: contributions alone) */
    int64_t n_rows, n_features, block, n_blocks;
    const forest_t *f;
    int64_t next; /* the next block to take (atomic) */
    int failed;
} job_t;

static void *run_job(void *arg) {
    job_t *job = (job_t *)arg;
    work_t w;
    if (job->out != NULL && work_init(&w, job->f, job->n_features, job->block) != 0) {
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    for (;;) {
        int64_t b = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (b >= job->n_blocks) break;
        int64_t r0 = b * job->block, r1 = r0 + job->block < job->n_rows ? r0 + job->block : job->n_rows;
        if (job->out != NULL) {
            explain_block(job->X, job->out, job->margins, job->n_features, r0, r1, job->f, &w);
        } else {
            margins_block(job->X, job->margins, job->n_features, r0, r1, job->f);
        }
    }
    if (job->out != NULL) free(w.mem);
    return NULL;
}

static int run(job_t *job, int64_t n_threads) {
    job->n_blocks = (job->n_rows + job->block - 1) / job->block;
    job->next = 0;
    job->failed = 0;
    if (n_threads > job->n_blocks) n_threads = job->n_blocks;
    if (n_threads < 1) n_threads = 1;
    pthread_t threads[256];
    if (n_threads > 256) n_threads = 256;
    int64_t started = 0;
    for (int64_t t = 1; t < n_threads; t++) {
        if (pthread_create(&threads[started], NULL, run_job, job) != 0) break; /* fewer threads do the rest */
        started++;
    }
    run_job(job); /* the calling thread works too */
    for (int64_t t = 0; t < started; t++) pthread_join(threads[t], NULL);
    return job->failed ? -1 : 0;
}

/* Contributions of every row of X (n_rows x n_features, C order) into out (n_rows x (n_features + 1)):
 * per feature, then the expected value; and, unless `margins` is NULL, every row's raw margin into it
 * (n_rows), from the same pass over the trees. 0, or -1 when working memory could not be had. */
int cb_explain(const double *X, int64_t n_rows, int64_t n_features, double *out, double *margins, int64_t block,
               int64_t n_threads, const forest_t *f) {
    job_t job = {X, out, margins, n_rows, n_features, block, 0, f, 0, 0};
    return run(&job, n_threads);
}

/* Raw margins of every row of X into margins (n_rows). */
int cb_margins(const double *X, int64_t n_rows, int64_t n_features, double *margins, int64_t block,
               int64_t n_threads, const forest_t *f) {
    job_t job = {X, NULL, margins, n_rows, n_features, block, 0, f, 0, 0};
    return run(&job, n_threads);
}

/* The layout this file was built with, checked by the loader against its ctypes mirror. */
int64_t cb_forest_size(void) { return (int64_t)sizeof(forest_t); }
