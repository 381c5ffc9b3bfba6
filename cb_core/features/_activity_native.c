/* The activity features of one part of the book (cb_core/features/asof.py, _activity_features) in C,
 * compiled once per machine (cb_core/features/_native.py) and loaded with ctypes.
 *
 * numpy lays a part's rows into dense (merchant x 15 months) arrays, one per field, and reduces them: at
 * 1,000,000 merchants some thirty arrays of 6 MB per part, each in fresh pages, and 5 s of CPU over the
 * 19 parts. Here each merchant's 15 months are laid out on the stack, one merchant after the other, with
 * the same formulas in the same order of floating-point operations: sums are numpy's pairwise sums (eight
 * accumulators from eight values, added to numpy's initial 0.0), the build passes -ffp-contract=off and
 * no fast-math, so both give the same features bit for bit (tests/features/test_activity_native.py).
 */
#include <math.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>

#define W 15        /* months laid out: 12 plus 3 for the year-over-year comparison (asof.WINDOW) */
#define N_FIELDS 15 /* FIELDS of _native.py: the 11 summed fields, then the 3 rates and avg_rating */
#define N_SUM 11
#define N_OUT 28    /* asof.ACTIVITY_FEATURES, in that order */

enum { GMV, ORDERS, RETURNS, REFUND, BUYERS, LISTINGS, REVIEWS, DISPUTES, SETTLE, CLICKS, ADS,
       REPEAT, TURNOVER, DELAY, RATING };
enum { F_GMV3, F_GMV12, F_GMV_TREND, F_YOY, F_VOLATILITY, F_DROP, F_ORDERS3, F_ORDERS_TREND, F_TICKET,
       F_ACTIVE, F_ZERO, F_RETURN6, F_RETURN_TREND, F_REFUND6, F_TURNOVER6, F_LISTINGS3, F_BUYERS3, F_REPEAT6,
       F_RATING6, F_RATING_TREND, F_REVIEWS6, F_DISPUTE6, F_DISPUTE_TREND, F_DELAY6, F_CLICKS_TREND,
       F_CLICKS_LISTING, F_AD6, F_SETTLE6 };
/* window slices, as (start, length): the last 3, the 3 before, the last 6, the last 12, a year before */
enum { LAST3, PRIOR3, LAST6, LAST12, YOY3, N_SLICES };
static const int SL_START[N_SLICES] = {W - 3, W - 6, W - 6, W - 12, 0};
static const int SL_LEN[N_SLICES] = {3, 3, 6, 12, 3};

/* kinds of a column's values */
#define KIND_F64 0
#define KIND_I64 1
#define KIND_I32 2

/* One chunk of a column (Arrow's buffers as they are, or a numpy array): values data[offset + i], missing
 * where the validity bitmap (when there is one) has bit offset + i clear. */
typedef struct {
    const void *data;
    const uint8_t *valid;
    int64_t offset, kind;
} chunk_t;

int cb_activity_count(void) { return N_OUT; }
int cb_activity_fields(void) { return N_FIELDS; }
int64_t cb_activity_chunk_size(void) { return (int64_t)sizeof(chunk_t); }

static inline double value_of(const chunk_t *c, int64_t local) {
    int64_t i = c->offset + local;
    if (c->valid && !((c->valid[i >> 3] >> (i & 7)) & 1)) return NAN;
    if (c->kind == KIND_I64) return (double)((const int64_t *)c->data)[i];
    if (c->kind == KIND_I32) return (double)((const int32_t *)c->data)[i];
    return ((const double *)c->data)[i];
}

/* numpy's add.reduce of n contiguous doubles: its initial 0.0 plus the pairwise sum (below 8 values one
 * after the other from 0.0; from 8, eight accumulators, joined in pairs, then the rest one by one). */
static double np_sum(const double *x, int n) {
    double res;
    int i;
    if (n < 8) {
        res = 0.0;
        for (i = 0; i < n; i++) res += x[i];
    } else {
        double r[8];
        for (i = 0; i < 8; i++) r[i] = x[i];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += x[i + j];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += x[i];
    }
    return 0.0 + res;
}

/* np.nansum: missing values as 0.0, then the sum */
static double nan_sum(const double *x, int n) {
    double t[W];
    for (int i = 0; i < n; i++) t[i] = isnan(x[i]) ? 0.0 : x[i];
    return np_sum(t, n);
}

static int present(const double *x, int n) {
    int k = 0;
    for (int i = 0; i < n; i++) k += !isnan(x[i]);
    return k;
}

static inline double safe_div(double num, double den) { return den > 0 ? num / den : NAN; }

static inline double nan_mean(const double *x, int n) { return safe_div(nan_sum(x, n), (double)present(x, n)); }

/* asof._trend: last/prior - 1 clipped to [-1, 3]; from zero +3 when it grew, else 0; NaN when prior unseen */
static double trend(double last, double prior, int prior_seen) {
    if (!prior_seen) return NAN;
    double out = prior > 0 ? last / prior - 1.0 : (last > 0 ? 3.0 : 0.0);
    if (isnan(out)) return out;
    return out < -1.0 ? -1.0 : (out > 3.0 ? 3.0 : out);
}

static inline double nan_to_num(double x) {
    if (isnan(x)) return 0.0;
    if (isinf(x)) return x > 0 ? DBL_MAX : -DBL_MAX;
    return x;
}

/* One merchant's features from its 15 months (a[field][month]), its first month's column (may be before
 * the window: then every month is observed), written at into[feature][at]. */
static void merchant_features(double a[N_FIELDS][W], int64_t first_col, double months_active, double *const *into,
                              int64_t at) {
    double s[N_SUM][N_SLICES];
    int observed[W];
    for (int k = 0; k < N_SUM; k++)  /* before the unobserved months become NaN (they hold 0.0 here) */
        for (int sl = 0; sl < N_SLICES; sl++) s[k][sl] = np_sum(a[k] + SL_START[sl], SL_LEN[sl]);
    for (int j = 0; j < W; j++) observed[j] = j >= first_col;
    static const int whole[4] = {GMV, ORDERS, LISTINGS, REVIEWS};
    for (int w = 0; w < 4; w++)
        for (int j = 0; j < W; j++)
            if (!observed[j]) a[whole[w]][j] = NAN;

    int seen_prior3 = 0, all_yoy = 1, n_seen3 = 0;
    for (int j = W - 6; j < W - 3; j++) seen_prior3 |= observed[j];
    for (int j = 0; j < 3; j++) all_yoy &= observed[j];
    for (int j = W - 3; j < W; j++) n_seen3 += observed[j];

#define OUT(f) into[f][at]
    OUT(F_GMV3) = safe_div(s[GMV][LAST3], (double)n_seen3);
    OUT(F_GMV12) = s[GMV][LAST12];
    OUT(F_GMV_TREND) = trend(s[GMV][LAST3], s[GMV][PRIOR3], seen_prior3);
    OUT(F_YOY) = trend(s[GMV][LAST3], s[GMV][YOY3], all_yoy);

    const double *g12 = a[GMV] + (W - 12);
    int cnt12 = present(g12, 12);
    double mean12 = safe_div(nan_sum(g12, 12), (double)cnt12);
    double dev[12];
    for (int j = 0; j < 12; j++) {
        double d = g12[j] - mean12;
        dev[j] = d * d;
    }
    double var12 = safe_div(nan_sum(dev, 12), (double)cnt12);
    OUT(F_VOLATILITY) = cnt12 >= 3 ? safe_div(sqrt(var12), mean12) : NAN;
    double peak = NAN;
    if (cnt12 > 0) {
        peak = -INFINITY;
        for (int j = 0; j < 12; j++)
            if (!isnan(g12[j]) && g12[j] > peak) peak = g12[j];
    }
    OUT(F_DROP) = peak > 0 ? 1.0 - safe_div(nan_to_num(a[GMV][W - 1]), peak) : NAN;
    OUT(F_ORDERS3) = safe_div(s[ORDERS][LAST3], (double)n_seen3);
    OUT(F_ORDERS_TREND) = trend(s[ORDERS][LAST3], s[ORDERS][PRIOR3], seen_prior3);
    OUT(F_TICKET) = safe_div(s[GMV][LAST6], s[ORDERS][LAST6]);
    OUT(F_ACTIVE) = months_active;
    int zero = 0;
    for (int j = 0; j < 12; j++) zero += g12[j] == 0;
    OUT(F_ZERO) = (double)zero;

    double o6 = s[ORDERS][LAST6], o3 = s[ORDERS][LAST3], op3 = s[ORDERS][PRIOR3];
    OUT(F_RETURN6) = safe_div(s[RETURNS][LAST6], o6);
    OUT(F_RETURN_TREND) = safe_div(s[RETURNS][LAST3], o3) - safe_div(s[RETURNS][PRIOR3], op3);
    OUT(F_REFUND6) = safe_div(s[REFUND][LAST6], s[GMV][LAST6]);
    OUT(F_TURNOVER6) = nan_mean(a[TURNOVER] + (W - 6), 6);
    OUT(F_LISTINGS3) = nan_mean(a[LISTINGS] + (W - 3), 3);
    OUT(F_BUYERS3) = safe_div(s[BUYERS][LAST3], (double)n_seen3);
    double repeat[6], delay[6];
    for (int j = 0; j < 6; j++) {
        int selling = a[ORDERS][W - 6 + j] > 0;
        repeat[j] = selling ? a[REPEAT][W - 6 + j] : NAN;
        delay[j] = selling ? a[DELAY][W - 6 + j] : NAN;
    }
    OUT(F_REPEAT6) = nan_mean(repeat, 6);

    double rated[W];
    for (int j = 0; j < W; j++) rated[j] = a[REVIEWS][j] > 0 ? a[RATING][j] * a[REVIEWS][j] : 0.0;
    double rating6 = safe_div(nan_sum(rated + (W - 6), 6), nan_sum(a[REVIEWS] + (W - 6), 6));
    double rating3 = safe_div(nan_sum(rated + (W - 3), 3), nan_sum(a[REVIEWS] + (W - 3), 3));
    double rating_prior3 = safe_div(nan_sum(rated + (W - 6), 3), nan_sum(a[REVIEWS] + (W - 6), 3));
    OUT(F_RATING6) = rating6;
    OUT(F_RATING_TREND) = rating3 - rating_prior3;
    OUT(F_REVIEWS6) = safe_div(s[REVIEWS][LAST6], o6);
    OUT(F_DISPUTE6) = safe_div(s[DISPUTES][LAST6], o6);
    OUT(F_DISPUTE_TREND) = safe_div(s[DISPUTES][LAST3], o3) - safe_div(s[DISPUTES][PRIOR3], op3);
    OUT(F_DELAY6) = nan_mean(delay, 6);
    OUT(F_CLICKS_TREND) = trend(s[CLICKS][LAST3], s[CLICKS][PRIOR3], seen_prior3);
    OUT(F_CLICKS_LISTING) = safe_div(s[CLICKS][LAST3], s[LISTINGS][LAST3]);
    OUT(F_AD6) = safe_div(s[ADS][LAST6], s[GMV][LAST6]);
    OUT(F_SETTLE6) = safe_div(s[SETTLE][LAST6], s[GMV][LAST6]);
#undef OUT
}

/* The features of every merchant of a part's rows, written at its position among all the merchants.
 *   rows: the part's rows; codes[row]: the merchant's code (int32 when codes_are_32, else int64), in
 *     [0, n_codes); where[code]: the merchant's position, -1 for none (its rows are left out, as rows after
 *     month `end` are); months[row] (int32 when months_are_32, else int64): the row's month (months since
 *     year 0), or with a month_table the code of its month there;
 *   the columns come in n_chunks chunks, chunk ch holding rows chunk_start[ch] to chunk_start[ch + 1] - 1 of
 *     every column; columns[k * n_chunks + ch]: field k's chunk ch (FIELDS of _activity.py);
 *   into[feature][position]: the N_OUT features (ACTIVITY_FEATURES) of a merchant with a row up to `end`, and
 *     has_rows[position] set to 1; nothing is written for the others. Each merchant's rows being in one part
 *     only, two parts may be computed at once into the same arrays.
 * Returns 0, or -1 when its working memory cannot be had. */
int cb_activity_features(int64_t n_rows, const void *codes, int64_t codes_are_32, const void *months,
                         int64_t months_are_32, const int64_t *month_table, const int64_t *where, int64_t n_codes,
                         int64_t end, int64_t n_chunks, const int64_t *chunk_start, const chunk_t *columns,
                         double *const *into, uint8_t *has_rows) {
    const int64_t start = end - W + 1;
    int64_t *offset = calloc((size_t)n_codes + 1, sizeof(int64_t));
    double *active = calloc((size_t)n_codes + 1, sizeof(double));
    int64_t *first = malloc((size_t)(n_codes ? n_codes : 1) * sizeof(int64_t));
    int64_t *chunk_of = NULL, *order = NULL, *fill = NULL;
    if (!offset || !active || !first) goto no_memory;
    for (int64_t c = 0; c < n_codes; c++) first[c] = INT64_MAX;
#define CODE(r) (codes_are_32 ? (int64_t)((const int32_t *)codes)[r] : ((const int64_t *)codes)[r])
#define RAW_MONTH(r) (months_are_32 ? (int64_t)((const int32_t *)months)[r] : ((const int64_t *)months)[r])
#define MONTH(r) (month_table ? month_table[RAW_MONTH(r)] : RAW_MONTH(r))
    int64_t in_window = 0;
    for (int64_t ch = 0; ch < n_chunks; ch++) {
        const chunk_t *gmv = &columns[GMV * n_chunks + ch];
        for (int64_t r = chunk_start[ch]; r < chunk_start[ch + 1]; r++) {
            int64_t c = CODE(r), m = MONTH(r);
            if (c < 0 || c >= n_codes || where[c] < 0 || m > end) continue;
            if (m < first[c]) first[c] = m;
            active[c] += value_of(gmv, r - chunk_start[ch]) > 0 ? 1.0 : 0.0;
            if (m >= start) {
                offset[c + 1]++;
                in_window++;
            }
        }
    }
    for (int64_t c = 0; c < n_codes; c++) offset[c + 1] += offset[c];
    order = malloc((size_t)(in_window ? in_window : 1) * sizeof(int64_t));
    chunk_of = malloc((size_t)(in_window ? in_window : 1) * sizeof(int64_t));
    fill = malloc((size_t)(n_codes ? n_codes : 1) * sizeof(int64_t));
    if (!order || !chunk_of || !fill) goto no_memory;
    for (int64_t c = 0; c < n_codes; c++) fill[c] = offset[c];
    for (int64_t ch = 0; ch < n_chunks; ch++) /* each merchant's window rows, in row order (the last one counts) */
        for (int64_t r = chunk_start[ch]; r < chunk_start[ch + 1]; r++) {
            int64_t c = CODE(r), m = MONTH(r);
            if (c < 0 || c >= n_codes || where[c] < 0 || m > end || m < start) continue;
            chunk_of[fill[c]] = ch;
            order[fill[c]++] = r;
        }
    double a[N_FIELDS][W];
    for (int64_t c = 0; c < n_codes; c++) {
        if (first[c] > end) continue;
        for (int k = 0; k < N_FIELDS; k++)
            for (int j = 0; j < W; j++) a[k][j] = k < N_SUM ? 0.0 : NAN;
        for (int64_t i = offset[c]; i < offset[c + 1]; i++) {
            int64_t r = order[i], ch = chunk_of[i], j = MONTH(r) - start;
            for (int k = 0; k < N_FIELDS; k++) a[k][j] = value_of(&columns[k * n_chunks + ch], r - chunk_start[ch]);
        }
        merchant_features(a, first[c] - start, active[c], into, where[c]);
        has_rows[where[c]] = 1;
    }
#undef MONTH
#undef RAW_MONTH
#undef CODE
    free(offset), free(active), free(first), free(order), free(chunk_of), free(fill);
    return 0;
no_memory:
    free(offset), free(active), free(first), free(order), free(chunk_of), free(fill);
    return -1;
}
