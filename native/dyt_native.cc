// dyt-lab native kernels: a tiny N-API addon over the system OpenBLAS.
//
// The tfjs wasm backend keeps every tensor in one WebAssembly.Memory. The JS
// side (lib/engine/native.ts) passes that memory's ArrayBuffer plus byte
// offsets; the kernels here read and write the wasm heap in place, so no copy
// is made in either direction. All matrices are float32, row-major.
//
// Exports:
//   info()                      -> { corename, config, threads, blasThreads, coretypeEnv }
//   setThreads(n)               -> sets the pool's thread count (n >= 1)
//   sgemm(buf, aOff, bOff, cOff, batch, M, N, K, transA, transB,
//         strideA, strideB[, aIndex, bIndex])
//       C[i] = op(A[ia]) * op(B[ib]) for i < batch, C is contiguous [batch, M, N];
//       ia = aIndex ? aIndex[i] : i, the element offset of A[ia] is ia * strideA
//       (strideA 0 broadcasts one matrix); same for B.
//   transpose(buf, xOff, yOff, shape, perm)
//       y = x permuted by perm (any rank; see transposeNd).
//   unary(buf, op, xOff, yOff, n)
//       y = f(x) elementwise, op 0 exp, 1 erf, 2 tanh, 3 sigmoid (vectorised).
//   sum(buf, xOff, yOff, A, R, B)
//       y[a, b] = sum_r x[a, r, b] (double accumulation).
//   copyRows(buf, xOff, yOff, rows, cols, srcStride, dstStride)
//       strided row copy (slices, unstack).
#include <napi.h>
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" {
char* openblas_get_corename(void);
char* openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}

namespace {

// ---------------------------------------------------------------------------
// A minimal persistent worker pool: run(n, f) calls f(0..n-1) across the
// calling thread and the workers, and returns when all n calls are done.
// Idle workers block on a condition variable (no spinning: on a 2-core
// machine shared with other processes a spinning worker steals the core the
// JS thread needs). The caller waits only for tasks actually running, never
// for a worker that has not woken up yet: a late worker finds no task left.
class Pool {
  struct Job {
    const std::function<void(int)>* f = nullptr;
    int n = 0;
    std::atomic<int> next{0};
    std::atomic<int> done{0};
    std::mutex m;
    std::condition_variable cv;
  };

 public:
  void resize(int total) {
    stop();
    total_ = std::max(1, total);
    quit_ = false;
    for (int i = 1; i < total_; ++i) workers_.emplace_back([this] { loop(); });
  }
  int size() const { return total_; }
  ~Pool() { stop(); }

  void run(int n, const std::function<void(int)>& f) {
    if (total_ <= 1 || n <= 1) {
      for (int i = 0; i < n; ++i) f(i);
      return;
    }
    auto job = std::make_shared<Job>();
    job->f = &f;
    job->n = n;
    {
      std::lock_guard<std::mutex> lk(mu_);
      current_ = job;
      ++gen_;
    }
    cv_.notify_all();
    execute(*job);
    {
      std::unique_lock<std::mutex> lk(job->m);
      job->cv.wait(lk, [&] { return job->done.load() == n; });
    }
    std::lock_guard<std::mutex> lk(mu_);
    if (current_ == job) current_.reset();
  }

 private:
  static void execute(Job& job) {
    for (;;) {
      const int i = job.next.fetch_add(1);
      if (i >= job.n) return;
      (*job.f)(i);
      if (job.done.fetch_add(1) + 1 == job.n) {
        std::lock_guard<std::mutex> lk(job.m);
        job.cv.notify_all();
      }
    }
  }
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return quit_ || gen_ != seen; });
        if (quit_) return;
        seen = gen_;
        job = current_;
      }
      if (job) execute(*job);
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Job> current_;
  int total_ = 1;
  uint64_t gen_ = 0;
  bool quit_ = false;
};

// Threading model: OpenBLAS itself runs single-threaded (its workers
// busy-wait between calls); parallelism comes from the pool above, which
// splits a batch of products, or one large product into row or column bands,
// each band one single-threaded sgemm. Pool size: OPENBLAS_NUM_THREADS (or
// OpenBLAS's own default, the core count), changeable with setThreads(n).
Pool g_pool;

// Below this many multiply-adds a product is not worth splitting (OpenBLAS's
// own threshold is the same: interface/gemm.c, 65536 * GEMM_MULTITHREAD_THRESHOLD).
constexpr double kSmallGemm = 262144.0;

float* heapF32(const Napi::Env& env, const Napi::Value& v, size_t byteOff, size_t count) {
  uint8_t* base = nullptr;
  size_t len = 0;
  if (v.IsArrayBuffer()) {
    auto ab = v.As<Napi::ArrayBuffer>();
    base = static_cast<uint8_t*>(ab.Data());
    len = ab.ByteLength();
  } else if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    auto ab = ta.ArrayBuffer();
    base = static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset();
    len = ta.ByteLength();
  } else {
    throw Napi::TypeError::New(env, "expected an ArrayBuffer (the wasm heap)");
  }
  if (byteOff % 4 != 0) throw Napi::RangeError::New(env, "unaligned float32 offset");
  if (byteOff > len || count * 4 > len - byteOff)
    throw Napi::RangeError::New(env, "matrix lies outside the heap buffer");
  return reinterpret_cast<float*>(base + byteOff);
}

const int32_t* optIndex(const Napi::CallbackInfo& info, size_t i, int64_t batch) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return nullptr;
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "batch index must be an Int32Array");
  auto ta = info[i].As<Napi::Int32Array>();
  if (static_cast<int64_t>(ta.ElementLength()) < batch)
    throw Napi::RangeError::New(info.Env(), "batch index shorter than batch");
  return ta.Data();
}

int64_t maxIndex(const int32_t* idx, int64_t batch) {
  if (!idx) return batch - 1;
  int64_t m = 0;
  for (int64_t i = 0; i < batch; ++i) {
    if (idx[i] < 0) return -1;
    m = std::max<int64_t>(m, idx[i]);
  }
  return m;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("corename", std::string(openblas_get_corename()));
  o.Set("config", std::string(openblas_get_config()));
  o.Set("threads", g_pool.size());
  o.Set("blasThreads", openblas_get_num_threads());
  const char* ct = std::getenv("OPENBLAS_CORETYPE");
  o.Set("coretypeEnv", ct ? Napi::Value(Napi::String::New(env, ct)) : env.Null());
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) n = 1;
  g_pool.resize(n);
  return info.Env().Undefined();
}

Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 12) throw Napi::TypeError::New(env, "sgemm: 12 arguments expected");
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  const int64_t aOff = num(1), bOff = num(2), cOff = num(3);
  const int64_t batch = num(4), M = num(5), N = num(6), K = num(7);
  const bool tA = info[8].ToBoolean(), tB = info[9].ToBoolean();
  const int64_t sA = num(10), sB = num(11);
  if (batch < 0 || M < 0 || N < 0 || K < 0 || sA < 0 || sB < 0 || aOff < 0 || bOff < 0 || cOff < 0)
    throw Napi::RangeError::New(env, "sgemm: negative size");
  if (batch == 0 || M == 0 || N == 0) return env.Undefined();
  const int32_t* ai = optIndex(info, 12, batch);
  const int32_t* bi = optIndex(info, 13, batch);
  const int64_t amax = maxIndex(ai, batch), bmax = maxIndex(bi, batch);
  if (amax < 0 || bmax < 0) throw Napi::RangeError::New(env, "sgemm: negative batch index");
  float* A = heapF32(env, info[0], aOff, amax * sA + M * K);
  float* B = heapF32(env, info[0], bOff, bmax * sB + K * N);
  float* C = heapF32(env, info[0], cOff, batch * M * N);
  if (K == 0) {
    std::fill(C, C + batch * M * N, 0.0f);
    return env.Undefined();
  }
  const int lda = tA ? M : K, ldb = tB ? K : N, ldc = N;
  const CBLAS_TRANSPOSE ta = tA ? CblasTrans : CblasNoTrans, tb = tB ? CblasTrans : CblasNoTrans;
  auto one = [&](int64_t i) {
    const int64_t ia = ai ? ai[i] : i, ib = bi ? bi[i] : i;
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A + ia * sA, lda, B + ib * sB, ldb, 0.0f,
                C + i * M * N, ldc);
  };
  const double work = double(M) * double(N) * double(K);
  const int P = g_pool.size();
  if (P > 1 && batch >= P && (work < kSmallGemm * 4 || batch >= 4 * P)) {
    // Many products: contiguous chunks of the batch, a few per thread.
    const int64_t tasks = std::min<int64_t>(batch, P * 4);
    g_pool.run(static_cast<int>(tasks), [&](int t) {
      const int64_t lo = batch * t / tasks, hi = batch * (t + 1) / tasks;
      for (int64_t i = lo; i < hi; ++i) one(i);
    });
  } else if (P > 1 && work >= kSmallGemm) {
    // Few large products: split each into bands of C, rows if M >= N else
    // columns (16-aligned). Every element of C is computed by the same
    // single-threaded kernel with the same K order as without the split.
    const bool rows = M >= N;
    const int64_t len = rows ? M : N;
    const int64_t tasks = std::min<int64_t>(P * 2, std::max<int64_t>(1, len / 16));
    for (int64_t i = 0; i < batch; ++i) {
      const int64_t ia = ai ? ai[i] : i, ib = bi ? bi[i] : i;
      const float* Ai = A + ia * sA;
      const float* Bi = B + ib * sB;
      float* Ci = C + i * M * N;
      g_pool.run(static_cast<int>(tasks), [&](int t) {
        int64_t lo = len * t / tasks, hi = len * (t + 1) / tasks;
        if (!rows) {
          lo = t == 0 ? 0 : (lo + 15) & ~int64_t(15);
          hi = t == tasks - 1 ? len : (hi + 15) & ~int64_t(15);
          hi = std::min(hi, len);
        }
        if (hi <= lo) return;
        if (rows) {
          // Rows lo..hi of op(A): A[lo, 0] (no trans) or A[0, lo] (trans).
          const float* Ab = tA ? Ai + lo : Ai + lo * lda;
          cblas_sgemm(CblasRowMajor, ta, tb, hi - lo, N, K, 1.0f, Ab, lda, Bi, ldb, 0.0f, Ci + lo * ldc, ldc);
        } else {
          // Columns lo..hi of op(B): B[0, lo] (no trans) or B[lo, 0] (trans).
          const float* Bb = tB ? Bi + lo * ldb : Bi + lo;
          cblas_sgemm(CblasRowMajor, ta, tb, M, hi - lo, K, 1.0f, Ai, lda, Bb, ldb, 0.0f, Ci + lo, ldc);
        }
      });
    }
  } else {
    for (int64_t i = 0; i < batch; ++i) one(i);
  }
  return env.Undefined();
}

void transposeBlock(const float* x, float* y, int64_t rows, int64_t cols, int64_t ldy) {
  // y[c * ldy + r] = x[r * cols + c], in 32x32 tiles.
  constexpr int64_t T = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += T) {
    const int64_t r1 = std::min(rows, r0 + T);
    for (int64_t c0 = 0; c0 < cols; c0 += T) {
      const int64_t c1 = std::min(cols, c0 + T);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) y[c * ldy + r] = x[r * cols + c];
    }
  }
}

// y = transpose(x, perm) for a float32 tensor of the given shape. The caller
// (lib/engine/native.ts) has already dropped size-1 dims and merged axes that
// stay adjacent, so rank is small and perm has no identity runs except a
// leading batch. Three loops:
//   last axis stays last:  copy contiguous rows of s[r-1] floats;
//   [.., R, C] -> [.., C, R] (a batched 2-D transpose): cache-blocked tiles;
//   anything else: odometer over the output, strided gather on the last axis.
// Work is split over the pool along the outermost output axis when large.
void transposeNd(const float* x, float* y, const std::vector<int64_t>& s, const std::vector<int>& p) {
  const int r = static_cast<int>(s.size());
  std::vector<int64_t> inStride(r), os(r), srcStride(r);
  int64_t n = 1;
  for (int i = r - 1; i >= 0; --i) {
    inStride[i] = n;
    n *= s[i];
  }
  for (int i = 0; i < r; ++i) {
    os[i] = s[p[i]];
    srcStride[i] = inStride[p[i]];
  }
  if (n == 0) return;
  // Batched 2-D swap: perm = [0..k-1, k+1, k] (k = r-2).
  bool swap2 = r >= 2 && p[r - 1] == r - 2 && p[r - 2] == r - 1;
  for (int i = 0; i < r - 2 && swap2; ++i) swap2 = p[i] == i;
  if (swap2) {
    const int64_t rows = s[r - 2], cols = s[r - 1], per = rows * cols, batch = n / per;
    auto body = [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) transposeBlock(x + b * per, y + b * per, rows, cols, rows);
    };
    if (batch > 1 && g_pool.size() > 1 && n >= (1 << 18)) {
      const int64_t tasks = std::min<int64_t>(batch, g_pool.size() * 4);
      g_pool.run(static_cast<int>(tasks), [&](int t) { body(batch * t / tasks, batch * (t + 1) / tasks); });
    } else if (batch == 1 && g_pool.size() > 1 && n >= (1 << 18)) {
      // One big matrix: split its rows into bands.
      const int64_t tasks = g_pool.size() * 4;
      g_pool.run(static_cast<int>(tasks), [&](int t) {
        const int64_t lo = rows * t / tasks, hi = rows * (t + 1) / tasks;
        transposeBlock(x + lo * cols, y + lo, hi - lo, cols, rows);
      });
    } else {
      body(0, batch);
    }
    return;
  }
  const bool lastStays = p[r - 1] == r - 1;
  const int64_t inner = os[r - 1];
  const int64_t outer = n / inner;  // number of output rows
  // Output rows [lo, hi): odometer over output axes 0..r-2.
  auto rowsRange = [&](int64_t lo, int64_t hi) {
    std::vector<int64_t> idx(r, 0);
    int64_t rem = lo, src = 0;
    for (int i = r - 2; i >= 0; --i) {
      idx[i] = rem % os[i];
      rem /= os[i];
      src += idx[i] * srcStride[i];
    }
    for (int64_t row = lo; row < hi; ++row) {
      float* dst = y + row * inner;
      if (lastStays) {
        std::copy(x + src, x + src + inner, dst);
      } else {
        const int64_t st = srcStride[r - 1];
        for (int64_t j = 0; j < inner; ++j) dst[j] = x[src + j * st];
      }
      for (int i = r - 2; i >= 0; --i) {
        src += srcStride[i];
        if (++idx[i] < os[i]) break;
        src -= idx[i] * srcStride[i];
        idx[i] = 0;
      }
    }
  };
  if (g_pool.size() > 1 && n >= (1 << 18) && outer >= 2) {
    const int64_t tasks = std::min<int64_t>(outer, g_pool.size() * 4);
    g_pool.run(static_cast<int>(tasks), [&](int t) { rowsRange(outer * t / tasks, outer * (t + 1) / tasks); });
  } else {
    rowsRange(0, outer);
  }
}

// ---------------------------------------------------------------------------
// Elementwise float32 functions, written so GCC vectorises them (no calls, no
// branches), compiled for AVX-512, AVX2+FMA and baseline x86-64 and picked at
// load time. Accuracy: exp ~1 ulp (Cephes expf); erf is the Abramowitz-Stegun
// 7.1.26 formula tfjs's cpu backend uses (|error| < 1.5e-7); tanh Cephes tanhf.

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DYT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DYT_CLONES
#endif

static inline __attribute__((always_inline)) float expCore(float x) {
  // e^x for finite x in [-87.3, 88.7], ~1 ulp.
  const float fx = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
  float r = x - fx * 0.693359375f;
  r = r + fx * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t e = static_cast<int32_t>(fx) + 127;
  int32_t bits = e << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, 4);
  return y * scale;
}

static inline __attribute__((always_inline)) float expF(float x) {
  const float c = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  float y = expCore(c);
  y = x < -103.0f ? 0.0f : y;
  // Below -87 the result is subnormal: compute e^(x+16) * e^-16 instead.
  const float lo = x < -103.0f ? -103.0f : (x > -87.0f ? -87.0f : x);
  y = x < -87.0f && x >= -103.0f ? expCore(lo + 16.0f) * 1.12535175e-7f : y;
  // Above 88 the scale 2^fx would overflow first: e^(x-16) * e^16.
  const float hi = x > 88.72283935546875f ? 88.72283935546875f : (x < 88.0f ? 88.0f : x);
  y = x > 88.0f ? expCore(hi - 16.0f) * 8886110.52f : y;
  y = x > 88.72283935546875f ? __builtin_inff() : y;
  return x != x ? x : y;
}

static inline __attribute__((always_inline)) float erfF(float v) {
  // tfjs backend_util ERF_P / ERF_A1..A5.
  const float a = __builtin_fabsf(v);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  return __builtin_copysignf(1.0f - poly * expF(-a * a), v);
}

static inline __attribute__((always_inline)) float tanhF(float x) {
  // NaN propagates through both branches (expF returns NaN for NaN).
  const float a = __builtin_fabsf(x);
  const float z = x * x;
  const float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
                       3.33332819422e-1f) * z * x + x;
  const float e = expF(2.0f * a);  // inf for large a: big = 1; NaN stays NaN
  const float big = __builtin_copysignf(1.0f - 2.0f / (e + 1.0f), x);
  return a < 0.625f ? small : big;
}

static inline __attribute__((always_inline)) float sigmoidF(float x) { return 1.0f / (1.0f + expF(-x)); }

enum UnaryOp { kExp = 0, kErf = 1, kTanh = 2, kSigmoid = 3 };

DYT_CLONES void unaryExp(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = expF(x[i]);
}
DYT_CLONES void unaryErf(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = erfF(x[i]);
}
DYT_CLONES void unaryTanh(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = tanhF(x[i]);
}
DYT_CLONES void unarySigmoid(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = sigmoidF(x[i]);
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 5) throw Napi::TypeError::New(env, "unary: 5 arguments expected");
  const int op = info[1].As<Napi::Number>().Int32Value();
  const int64_t xOff = info[2].As<Napi::Number>().Int64Value(), yOff = info[3].As<Napi::Number>().Int64Value();
  const int64_t n = info[4].As<Napi::Number>().Int64Value();
  if (xOff < 0 || yOff < 0 || n < 0) throw Napi::RangeError::New(env, "unary: negative size");
  if (n == 0) return env.Undefined();
  const float* x = heapF32(env, info[0], xOff, n);
  float* y = heapF32(env, info[0], yOff, n);
  void (*f)(const float*, float*, int64_t) = nullptr;
  switch (op) {
    case kExp: f = unaryExp; break;
    case kErf: f = unaryErf; break;
    case kTanh: f = unaryTanh; break;
    case kSigmoid: f = unarySigmoid; break;
    default: throw Napi::RangeError::New(env, "unary: unknown op");
  }
  // x and y never overlap here (the output is a fresh allocation).
  if (g_pool.size() > 1 && n >= (1 << 16)) {
    const int64_t tasks = g_pool.size();
    g_pool.run(static_cast<int>(tasks), [&](int t) {
      const int64_t lo = (n * t / tasks) & ~int64_t(15), hi = t == tasks - 1 ? n : (n * (t + 1) / tasks) & ~int64_t(15);
      f(x + lo, y + lo, hi - lo);
    });
  } else {
    f(x, y, n);
  }
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// y[a, b] = sum_r x[a, r, b] for x of shape [A, R, B], accumulated in double
// (the cpu backend sums in JS doubles too), rounded once to float32.
DYT_CLONES void sumRows(const float* __restrict x, float* __restrict y, int64_t R, int64_t B, double* __restrict acc) {
  for (int64_t b = 0; b < B; ++b) acc[b] = 0.0;
  for (int64_t r = 0; r < R; ++r) {
    const float* row = x + r * B;
    for (int64_t b = 0; b < B; ++b) acc[b] += row[b];
  }
  for (int64_t b = 0; b < B; ++b) y[b] = static_cast<float>(acc[b]);
}

DYT_CLONES float sumContiguous(const float* __restrict x, int64_t R) {
  // 16 partial sums (vectorisable); the order differs from a sequential sum
  // only far below float32 resolution.
  double acc[16] = {0};
  int64_t r = 0;
  for (; r + 16 <= R; r += 16)
    for (int k = 0; k < 16; ++k) acc[k] += x[r + k];
  double s = 0;
  for (int k = 0; k < 16; ++k) s += acc[k];
  for (; r < R; ++r) s += x[r];
  return static_cast<float>(s);
}

Napi::Value SumReduce(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 6) throw Napi::TypeError::New(env, "sum: 6 arguments expected");
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  const int64_t xOff = num(1), yOff = num(2), A = num(3), R = num(4), B = num(5);
  if (xOff < 0 || yOff < 0 || A < 0 || R < 0 || B < 0) throw Napi::RangeError::New(env, "sum: negative size");
  if (A == 0 || B == 0) return env.Undefined();
  float* y = heapF32(env, info[0], yOff, A * B);
  if (R == 0) {
    std::fill(y, y + A * B, 0.0f);
    return env.Undefined();
  }
  const float* x = heapF32(env, info[0], xOff, A * R * B);
  if (B == 1) {
    auto body = [&](int64_t lo, int64_t hi) {
      for (int64_t a = lo; a < hi; ++a) y[a] = sumContiguous(x + a * R, R);
    };
    if (g_pool.size() > 1 && A * R >= (1 << 18) && A >= 2) {
      const int64_t tasks = std::min<int64_t>(A, g_pool.size() * 4);
      g_pool.run(static_cast<int>(tasks), [&](int t) { body(A * t / tasks, A * (t + 1) / tasks); });
    } else {
      body(0, A);
    }
    return env.Undefined();
  }
  // Split the columns (b) over the pool for one big [R, B] block, else the a's.
  if (g_pool.size() > 1 && A * R * B >= (1 << 18)) {
    const int64_t tasks = g_pool.size() * 2;
    if (A >= tasks) {
      g_pool.run(static_cast<int>(tasks), [&](int t) {
        std::vector<double> acc(B);
        for (int64_t a = A * t / tasks; a < A * (t + 1) / tasks; ++a) sumRows(x + a * R * B, y + a * B, R, B, acc.data());
      });
    } else {
      // Column bands of [R, B] (strided rows): each task owns bands of every a.
      g_pool.run(static_cast<int>(tasks), [&](int t) {
        const int64_t lo = B * t / tasks, hi = B * (t + 1) / tasks, w = hi - lo;
        if (w <= 0) return;
        std::vector<double> acc(w);
        for (int64_t a = 0; a < A; ++a) {
          for (int64_t b = 0; b < w; ++b) acc[b] = 0.0;
          const float* xa = x + a * R * B + lo;
          for (int64_t r = 0; r < R; ++r)
            for (int64_t b = 0; b < w; ++b) acc[b] += xa[r * B + b];
          for (int64_t b = 0; b < w; ++b) y[a * B + lo + b] = static_cast<float>(acc[b]);
        }
      });
    }
  } else {
    std::vector<double> acc(B);
    for (int64_t a = 0; a < A; ++a) sumRows(x + a * R * B, y + a * B, R, B, acc.data());
  }
  return env.Undefined();
}

// y[r, :cols] = x[r * srcStride + :cols] for r < rows (floats; a strided slice).
Napi::Value CopyRows(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 7) throw Napi::TypeError::New(env, "copyRows: 7 arguments expected");
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  const int64_t xOff = num(1), yOff = num(2), rows = num(3), cols = num(4), srcStride = num(5), dstStride = num(6);
  if (xOff < 0 || yOff < 0 || rows < 0 || cols < 0 || srcStride < cols || dstStride < cols)
    throw Napi::RangeError::New(env, "copyRows: bad size or stride");
  if (rows == 0 || cols == 0) return env.Undefined();
  const float* x = heapF32(env, info[0], xOff, (rows - 1) * srcStride + cols);
  float* y = heapF32(env, info[0], yOff, (rows - 1) * dstStride + cols);
  for (int64_t r = 0; r < rows; ++r) std::copy(x + r * srcStride, x + r * srcStride + cols, y + r * dstStride);
  return env.Undefined();
}

std::vector<int64_t> intList(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array");
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

Napi::Value Transpose(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 5) throw Napi::TypeError::New(env, "transpose: 5 arguments expected");
  const int64_t xOff = info[1].As<Napi::Number>().Int64Value(), yOff = info[2].As<Napi::Number>().Int64Value();
  const auto shape = intList(env, info[3], "shape");
  const auto perm64 = intList(env, info[4], "perm");
  const int r = static_cast<int>(shape.size());
  if (r < 1 || static_cast<int>(perm64.size()) != r) throw Napi::RangeError::New(env, "transpose: perm/shape rank mismatch");
  std::vector<int> perm(r);
  std::vector<bool> seen(r, false);
  int64_t n = 1;
  for (int i = 0; i < r; ++i) {
    if (shape[i] < 0) throw Napi::RangeError::New(env, "transpose: negative dim");
    n *= shape[i];
    const int64_t q = perm64[i];
    if (q < 0 || q >= r || seen[q]) throw Napi::RangeError::New(env, "transpose: perm is not a permutation");
    seen[q] = true;
    perm[i] = static_cast<int>(q);
  }
  if (xOff < 0 || yOff < 0) throw Napi::RangeError::New(env, "transpose: negative offset");
  if (n == 0) return env.Undefined();
  const float* x = heapF32(env, info[0], xOff, n);
  float* y = heapF32(env, info[0], yOff, n);
  transposeNd(x, y, shape, perm);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // OpenBLAS reads OPENBLAS_NUM_THREADS (default: the core count) at load;
  // that becomes the pool size, and OpenBLAS itself goes single-threaded.
  g_pool.resize(std::max(1, openblas_get_num_threads()));
  openblas_set_num_threads(1);
  // Bump when the exported functions change: lib/engine/native.ts refuses a
  // stale build (one left behind when a rebuild failed) instead of crashing.
  exports.Set("abi", Napi::Number::New(env, 4));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("sum", Napi::Function::New(env, SumReduce));
  exports.Set("copyRows", Napi::Function::New(env, CopyRows));
  return exports;
}

}  // namespace

NODE_API_MODULE(dyt_native, Init)
