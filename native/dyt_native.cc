// dyt-lab native kernels: a tiny N-API addon over the system OpenBLAS.
//
// The tfjs wasm backend keeps every tensor in one WebAssembly.Memory. The JS
// side (lib/engine/native.ts) passes that memory's ArrayBuffer plus byte
// offsets; the kernels here read and write the wasm heap in place, so no copy
// is made in either direction. All matrices are float32, row-major.
//
// Exports:
//   info()                      -> { corename, config, threads, blasThreads, coretypeEnv, isaCap, simd }
//       isaCap: the widest x86-64 level this build may use ("x86-64-v4", or
//       "x86-64-v3" for DYT_NATIVE_MAX_ISA=x86-64-v3; "none" off x86-64);
//       simd: what the elementwise clones run on this CPU (avx512, avx2, sse2, generic).
//   fmaPeak([ms, threads])      -> { gflops, gflopsWall, isa, lanes, threads, ms, ghz, ghzAdd, ghzImul }
//       measured FP32 FMA throughput of the whole machine and its clock (see FmaPeak).
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
//   adamw(buf, table, hyper)
//       one AdamW update of every parameter (see AdamW below).
//   normFwd / normBwd (LayerNorm, RMSNorm), dytFwd / dytBwd (DyT, tanh)
//       fused channels-last norm layers, forward and backward in one pass.
//   attnFwd / attnBwd
//       fused attention core softmax(scale Q K^T [+ causal mask]) V and its gradient,
//       on contiguous slices or (trailing H, ldq, ldk, ldv, ldo) strided heads of a packed q/k/v.
//   depthwise(buf, op, aOff, bOff, cOff, geometry)
//       depthwise conv2d NHWC (multiplier 1): op 0 forward, 1 input grad, 2 filter grad.
//   fftConvFwd(buf, xOff, hOff, yOff, B, L, C, Lh) / fftConvBwd(buf, xOff, hOff, dyOff, dxOff, dhOff, B, L, C, Lh)
//       causal per-channel long convolution by FFT (Hyena) and its gradient.
//   unfold1d(buf, op, xOff, colsOff, B, L, C, k, s, To)
//       patches of a strided 1-D conv (op 0) and their adjoint (op 1, overlap-add).
//   rows(buf, op, xOff, idxOff, yOff, n, d, V)
//       row gather (op 0) and its scatter-add adjoint (op 1): embedding lookups.
//   gelu(buf, op, xOff, dyOff, yOff, n)
//       exact GELU (op 0) and its gradient (op 1), fused and vectorised.
//   modulate(buf, op, aOff, bOff, cOff, dOff, eOff, fOff, B, T, D)
//       adaLN's x * (1 + scale) + shift and gated add x + gate * u over [B, T, D], and their gradients.
#include <napi.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

// body(lo, hi) over [0, n) in up to 4 bands per pool thread when `parallel`
// (and n > 1), else once over the whole range: the split of the per-item
// kernels (batches of products, attention slices, depthwise rows, FFT channel
// blocks, modulated samples).
void overBands(int64_t n, bool parallel, const std::function<void(int64_t, int64_t)>& body) {
  const int P_ = g_pool.size();
  if (parallel && P_ > 1 && n > 1) {
    const int64_t tasks = std::min<int64_t>(n, P_ * 4);
    g_pool.run(static_cast<int>(tasks), [&](int t) { body(n * t / tasks, n * (t + 1) / tasks); });
  } else {
    body(0, n);
  }
}

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

// ---------------------------------------------------------------------------
// SIMD level: x86-64 micro-architecture level 4 (AVX-512), 3 (AVX2 + FMA) or
// 1 (baseline SSE2); 0 off x86-64. The cap is this build's (DYT_CLONES);
// the CPU test is the one target_clones' resolver makes.
#if defined(DYT_MAX_X86_64_V3)
constexpr int kIsaCap = 3;
#else
constexpr int kIsaCap = 4;
#endif

int cpuLevel() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
  if (__builtin_cpu_supports("x86-64-v4")) return 4;
  if (__builtin_cpu_supports("x86-64-v3")) return 3;
  return 1;
#elif defined(__x86_64__) && defined(__GNUC__)
  // Older compilers know no level names: the features each level adds that matter here.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return 4;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 3;
  return 1;
#else
  return 0;
#endif
}

// The level the hand-dispatched code (fmaPeak) uses: the CPU's, capped.
int simdLevel() { return std::min(cpuLevel(), kIsaCap); }

const char* simdName(int level) { return level >= 4 ? "avx512" : level == 3 ? "avx2" : level >= 1 ? "sse2" : "generic"; }

bool ownGemmEnabled();  // below, with the own sgemm

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("corename", std::string(openblas_get_corename()));
  o.Set("config", std::string(openblas_get_config()));
  o.Set("threads", g_pool.size());
  o.Set("blasThreads", openblas_get_num_threads());
  const char* ct = std::getenv("OPENBLAS_CORETYPE");
  o.Set("coretypeEnv", ct ? Napi::Value(Napi::String::New(env, ct)) : env.Null());
#if defined(__x86_64__)
  o.Set("isaCap", kIsaCap == 3 ? "x86-64-v3" : "x86-64-v4");
#else
  o.Set("isaCap", "none");
#endif
  // DYT_CLONES exists only under GCC on x86-64; elsewhere the loops are baseline code.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  o.Set("simd", simdName(simdLevel()));
  o.Set("gemm", ownGemmEnabled() ? "own avx512 (large products)" : "openblas");
#else
  o.Set("simd", simdName(cpuLevel() >= 1 ? 1 : 0));
#endif
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) n = 1;
  g_pool.resize(n);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------
// The lab's own AVX-512 sgemm for the large products (issue 11). OpenBLAS is
// pinned to its Haswell (AVX2) kernels by the environment's
// OPENBLAS_CORETYPE=Haswell, which caps its sgemm at ~63 % of the AVX2 peak,
// ~32 % of this CPU's AVX-512 peak. On AVX-512 CPUs (and builds) the big
// products of a training step run here instead; everything else, and every
// product on an AVX2-only CPU or the capped build, stays on OpenBLAS.
//
// The layout: op(B) is packed in blocks of kGemmKC rows into panels of
// kGemmNR columns (zero-padded), op(A) is read in place kGemmMR rows at a
// time (an edge block through a zero-padded pack), and a 12 x 32 register
// tile (24 zmm accumulators) takes one FMA per element per k; edge tiles are
// written through masks. Each element of C is summed in k order, within and
// across K blocks, by one task, so results do not depend on the thread count.
// DYT_NATIVE_GEMM=openblas turns it off.
constexpr int kGemmMR = 12, kGemmNR = 32;
constexpr int64_t kGemmKC = 256;

bool ownGemmEnabled() {
  static const bool on = [] {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(DYT_MAX_X86_64_V3)
    const char* e = std::getenv("DYT_NATIVE_GEMM");
    return simdLevel() >= 4 && !(e && std::string(e) == "openblas");
#else
    return false;
#endif
  }();
  return on;
}

// Worth it: enough work for the packs to pay, and columns that fill most of
// the 32-wide panels (measured: [100, 300] x [300, 37], 42 % of its panels
// padding, ran at 57 GFLOP/s here and 85 on OpenBLAS).
bool ownGemmFits(int64_t M, int64_t N, int64_t K) {
  const int64_t nPad = (N + kGemmNR - 1) / kGemmNR * kGemmNR;
  return ownGemmEnabled() && M >= 4 * kGemmMR && K >= 16 && 4 * nPad <= 5 * N && double(M) * N * K >= 262144.0;
}

// One packed panel: dst[k * W + j] = the element (line p0 + j, depth k0 + k) of
// a matrix X for j < W, k < kc, zero past line n. kMajor: that element is
// X[(k0 + k) ld + p0 + j] (the W values of one k contiguous); else X[(p0 + j) ld + k0 + k].
// Rows of op(A) are its lines (kMajor when A is transposed); columns of op(B)
// are (kMajor when B is not).
[[maybe_unused]] void gemmPackPanel(const float* X, int64_t ld, bool kMajor, int64_t n, int64_t p0, int64_t k0, int64_t kc, int W, float* dst) {
  const int lines = static_cast<int>(std::min<int64_t>(W, n - p0));
  if (kMajor) {
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = X + (k0 + k) * ld + p0;
      float* d = dst + k * W;
      int j = 0;
      for (; j < lines; ++j) d[j] = src[j];
      for (; j < W; ++j) d[j] = 0.0f;
    }
  } else {
    for (int j = 0; j < W; ++j) {
      const float* src = X + (p0 + j) * ld + k0;
      for (int64_t k = 0; k < kc; ++k) dst[k * W + j] = j < lines ? src[k] : 0.0f;
    }
  }
}

// Ap[k * MR + i] = op(A)[r0 + i, k0 + k] for i < MR (0 past row M), k < kc.
[[maybe_unused]] void gemmPackA(const float* A, int64_t lda, bool tA, int64_t M, int64_t r0, int64_t k0, int64_t kc, float* Ap) {
  gemmPackPanel(A, lda, tA, M, r0, k0, kc, kGemmMR, Ap);
}

// Bp: for each panel p of NR columns, kc rows of NR floats: Bp[(p * kc + k) * NR + j] = op(B)[k0 + k, p NR + j] (0 past column N).
[[maybe_unused]] void gemmPackB(const float* B, int64_t ldb, bool tB, int64_t N, int64_t k0, int64_t kc, float* Bp) {
  const int64_t panels = (N + kGemmNR - 1) / kGemmNR;
  for (int64_t p = 0; p < panels; ++p) gemmPackPanel(B, ldb, !tB, N, p * kGemmNR, k0, kc, kGemmNR, Bp + p * kc * kGemmNR);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(DYT_MAX_X86_64_V3)
// C[0..rows, 0..cols] (+)= op(A) Bp over kc: the 12 x 32 register tile.
// op(A)[i, k] is read in place at A[i rs + k cs] (rows of a row-major A, or
// columns of a transposed one): packing A cost as much as the FMAs when N is
// only a panel or two wide. Edge blocks pass a zero-padded pack (rs 1, cs MR).
__attribute__((target("avx512f"))) void gemmMicroAvx512(int64_t kc, const float* __restrict A, int64_t rs, int64_t cs, const float* __restrict Bp,
                                                        float* __restrict C, int64_t ldc, int rows, int cols, bool accumulate) {
  __m512 c[kGemmMR][2];
#pragma GCC unroll 12
  for (int i = 0; i < kGemmMR; ++i) c[i][0] = c[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(Bp + k * kGemmNR), b1 = _mm512_load_ps(Bp + k * kGemmNR + 16);
    const float* a = A + k * cs;
#pragma GCC unroll 12
    for (int i = 0; i < kGemmMR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i * rs]);
      c[i][0] = _mm512_fmadd_ps(ai, b0, c[i][0]);
      c[i][1] = _mm512_fmadd_ps(ai, b1, c[i][1]);
    }
  }
  const __mmask16 m0 = static_cast<__mmask16>(cols >= 16 ? 0xFFFF : (1u << cols) - 1);
  const __mmask16 m1 = static_cast<__mmask16>(cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (1u << (cols - 16)) - 1);
#pragma GCC unroll 12
  for (int i = 0; i < kGemmMR; ++i) {
    if (i >= rows) break;
    float* ci = C + i * ldc;
    __m512 v0 = c[i][0], v1 = c[i][1];
    if (accumulate) {
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, ci), v0);
      v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, ci + 16), v1);
    }
    _mm512_mask_storeu_ps(ci, m0, v0);
    _mm512_mask_storeu_ps(ci + 16, m1, v1);
  }
}
#endif

// The block rows [m0, m1) x columns [n0, n1) of C = op(A) op(B) (m0 a
// multiple of MR, n0 of NR), with this task's packing buffers.
void ownGemmBlock(bool tA, bool tB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, int64_t m0,
                  int64_t m1, int64_t n0, int64_t n1) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(DYT_MAX_X86_64_V3)
  const int64_t nb = n1 - n0, panels = (nb + kGemmNR - 1) / kGemmNR;
  const int64_t kcMax = std::min(K, kGemmKC);
  float* Bp = static_cast<float*>(std::aligned_alloc(64, ((panels * kcMax * kGemmNR * sizeof(float)) + 63) / 64 * 64));
  float* Ap = static_cast<float*>(std::aligned_alloc(64, ((kcMax * kGemmMR * sizeof(float)) + 63) / 64 * 64));
  if (!Bp || !Ap) std::abort();
  // This block's columns of op(B): B[., n0] (no trans) or B[n0, .] (trans).
  const float* Bn = tB ? B + n0 * ldb : B + n0;
  for (int64_t k0 = 0; k0 < K; k0 += kGemmKC) {
    const int64_t kc = std::min(kGemmKC, K - k0);
    gemmPackB(Bn, ldb, tB, nb, k0, kc, Bp);
    for (int64_t r0 = m0; r0 < m1; r0 += kGemmMR) {
      const int rows = static_cast<int>(std::min<int64_t>(kGemmMR, m1 - r0));
      // A full block is read in place; an edge block through a padded pack.
      const float* Ab = tA ? A + k0 * lda + r0 : A + r0 * lda + k0;
      int64_t rs = tA ? 1 : lda, cs = tA ? lda : 1;
      if (rows < kGemmMR) {
        gemmPackA(A, lda, tA, M, r0, k0, kc, Ap);
        Ab = Ap, rs = 1, cs = kGemmMR;
      }
      for (int64_t p = 0; p < panels; ++p) {
        const int cols = static_cast<int>(std::min<int64_t>(kGemmNR, nb - p * kGemmNR));
        gemmMicroAvx512(kc, Ab, rs, cs, Bp + p * kc * kGemmNR, C + r0 * ldc + n0 + p * kGemmNR, ldc, rows, cols, k0 > 0);
      }
    }
  }
  std::free(Ap);
  std::free(Bp);
#else
  (void)tA, (void)tB, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)C, (void)ldc, (void)m0, (void)m1, (void)n0, (void)n1;
  std::abort();  // ownGemmFits is false on these builds
#endif
}

// One product C = op(A) op(B), on the pool when `parallel`: bands of row
// blocks, or of column panels when C is wider than tall (each task packs
// only its own panels of op(B), which dominates when M is small).
void ownGemm(bool tA, bool tB, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool parallel) {
  const bool byRows = M >= N;
  const int64_t blocks = byRows ? (M + kGemmMR - 1) / kGemmMR : (N + kGemmNR - 1) / kGemmNR;
  const int P = g_pool.size();
  const int64_t tasks = parallel && P > 1 ? std::min<int64_t>(blocks, P) : 1;
  auto band = [&](int t) {
    const int64_t b0 = blocks * t / tasks, b1 = blocks * (t + 1) / tasks;
    if (b1 <= b0) return;
    if (byRows) ownGemmBlock(tA, tB, M, N, K, A, lda, B, ldb, C, ldc, b0 * kGemmMR, std::min(M, b1 * kGemmMR), 0, N);
    else ownGemmBlock(tA, tB, M, N, K, A, lda, B, ldb, C, ldc, 0, M, b0 * kGemmNR, std::min(N, b1 * kGemmNR));
  };
  if (tasks > 1) g_pool.run(static_cast<int>(tasks), band);
  else band(0);
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
  if (ownGemmFits(M, N, K)) {
    // Products big enough for the own kernel: a batch of them splits over the
    // pool by product; otherwise each product splits itself (ownGemm).
    const bool byProduct = g_pool.size() > 1 && batch >= 2 * g_pool.size();
    overBands(batch, byProduct, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const int64_t ia = ai ? ai[i] : i, ib = bi ? bi[i] : i;
        ownGemm(tA, tB, M, N, K, A + ia * sA, lda, B + ib * sB, ldb, C + i * M * N, ldc, !byProduct);
      }
    });
    return env.Undefined();
  }
  auto one = [&](int64_t i) {
    const int64_t ia = ai ? ai[i] : i, ib = bi ? bi[i] : i;
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A + ia * sA, lda, B + ib * sB, ldb, 0.0f,
                C + i * M * N, ldc);
  };
  const double work = double(M) * double(N) * double(K);
  const int P = g_pool.size();
  if (P > 1 && batch >= P && (work < kSmallGemm * 4 || batch >= 4 * P)) {
    // Many products: contiguous chunks of the batch, a few per thread.
    overBands(batch, true, [&](int64_t lo, int64_t hi) {
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

// DYT_MAX_X86_64_V3 (native/build.sh with DYT_NATIVE_MAX_ISA=x86-64-v3) drops
// the AVX-512 clone: an AVX-512 CPU then runs the AVX2 code an AVX2-only CPU
// would, so that half of the ISA can be measured on one machine.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(DYT_MAX_X86_64_V3)
#define DYT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DYT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DYT_CLONES
#endif

// e^x, ~1 ulp, with IEEE results at the ends (0 and subnormals below, inf
// above, NaN kept). One polynomial for the whole range: x is clamped to
// [-104, 89], where e^x = 2^k e^r with k in [-150, 128] and |r| <= ln2/2, and
// 2^k is applied as two factors 2^(k>>1) 2^(k - (k>>1)), each a normal float,
// so only the last product rounds, to a subnormal, 0 or inf exactly where
// e^x does. (It used to evaluate the polynomial three times, for the normal,
// subnormal and overflowing ranges, and select: the GELU, DyT and softmax
// kernels spent most of their time there.)
static inline __attribute__((always_inline)) float expF(float x) {
  const float c = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
  const float fx = __builtin_floorf(c * 1.44269504088896341f + 0.5f);
  float r = c - fx * 0.693359375f;
  r = r + fx * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t k = static_cast<int32_t>(fx), k1 = k >> 1, k2 = k - k1;
  const int32_t b1 = (k1 + 127) << 23, b2 = (k2 + 127) << 23;
  float s1, s2;
  __builtin_memcpy(&s1, &b1, 4);
  __builtin_memcpy(&s2, &b2, 4);
  const float e = (y * s1) * s2;
  return x != x ? x : e;
}

// erf(v) = sign(v) (1 - erfPoly(|v|) exp(-v^2)), tfjs backend_util ERF_P / ERF_A1..A5.
static inline __attribute__((always_inline)) float erfPoly(float a) {
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  return ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
}

static inline __attribute__((always_inline)) float erfF(float v) {
  const float a = __builtin_fabsf(v);
  return __builtin_copysignf(1.0f - erfPoly(a) * expF(-a * a), v);
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

// body(lo, hi) over [0, n): one span per pool thread when n >= minParallel,
// span edges on multiples of 16 floats (whole vectors for every clone).
void overSpans(int64_t n, int64_t minParallel, const std::function<void(int64_t, int64_t)>& body) {
  if (g_pool.size() > 1 && n >= minParallel) {
    const int64_t tasks = g_pool.size();
    g_pool.run(static_cast<int>(tasks), [&](int t) {
      const int64_t lo = (n * t / tasks) & ~int64_t(15), hi = t == tasks - 1 ? n : (n * (t + 1) / tasks) & ~int64_t(15);
      body(lo, hi);
    });
  } else {
    body(0, n);
  }
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
  overSpans(n, 1 << 16, [&](int64_t lo, int64_t hi) { f(x + lo, y + lo, hi - lo); });
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

// ---------------------------------------------------------------------------
// Fused AdamW over every parameter in one call (lib/train/adamw.ts).
//
// table: Float64Array, 9 numbers per parameter:
//   wIn, wOut, g, mIn, mOut, vIn, vOut (byte offsets into the heap), n, decay (0/1)
// Out offsets equal the in offsets for an in-place update; the JS side gives a
// fresh buffer when a tensor shares its data. hyper: Float64Array
//   [beta1, beta2, eps, lr, weightDecay, bc1, bc2].
// Every operation is done in float32 in the order of the unfused tfjs ops
// (m*b1 + g*(1-b1); v*b2 + g^2*(1-b2); w*(1-lr*wd); (m/bc1)/(sqrt(v/bc2)+eps);
// w - upd*lr), each constant rounded to float32 as a tfjs scalar is, and no
// FMA contraction (ISO C++ mode), so the result is bit-identical to them.
struct AdamWConst {
  float b1, omb1, b2, omb2, eps, lr, decayMul, bc1, bc2;
};

DYT_CLONES void adamwSpan(const float* __restrict w, float* wo, const float* __restrict g, const float* m, float* mo, const float* v,
                          float* vo, int64_t n, bool decay, const AdamWConst& c) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] * c.b1 + gi * c.omb1;
    const float vi = v[i] * c.b2 + (gi * gi) * c.omb2;
    float wi = w[i];
    if (decay) wi = wi * c.decayMul;
    const float upd = (mi / c.bc1) / (__builtin_sqrtf(vi / c.bc2) + c.eps);
    mo[i] = mi;
    vo[i] = vi;
    wo[i] = wi - upd * c.lr;
  }
}

Napi::Value AdamW(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsTypedArray())
    throw Napi::TypeError::New(env, "adamw(heap, table: Float64Array, hyper: Float64Array) expected");
  auto tab = info[1].As<Napi::Float64Array>();
  auto hyp = info[2].As<Napi::Float64Array>();
  if (tab.ElementLength() % 9 != 0 || hyp.ElementLength() < 7) throw Napi::RangeError::New(env, "adamw: table of 9 per param, 7 hyper");
  const double* t = tab.Data();
  const double* h = hyp.Data();
  AdamWConst c;
  c.b1 = static_cast<float>(h[0]);
  c.omb1 = static_cast<float>(1.0 - h[0]);
  c.b2 = static_cast<float>(h[1]);
  c.omb2 = static_cast<float>(1.0 - h[1]);
  c.eps = static_cast<float>(h[2]);
  c.lr = static_cast<float>(h[3]);
  c.decayMul = static_cast<float>(1.0 - h[3] * h[4]);
  c.bc1 = static_cast<float>(h[5]);
  c.bc2 = static_cast<float>(h[6]);
  struct Span {
    const float *w, *g, *m, *v;
    float *wo, *mo, *vo;
    int64_t n;
    bool decay;
  };
  std::vector<Span> spans;
  const size_t P = tab.ElementLength() / 9;
  // Chunks of at most 16K floats so the pool balances a few big matrices and many small vectors.
  constexpr int64_t kChunk = 16384;
  int64_t total = 0;
  for (size_t p = 0; p < P; ++p) {
    const double* r = t + 9 * p;
    const int64_t n = static_cast<int64_t>(r[7]);
    if (n < 0) throw Napi::RangeError::New(env, "adamw: negative size");
    if (n == 0) continue;
    for (int k = 0; k < 7; ++k)
      if (r[k] < 0) throw Napi::RangeError::New(env, "adamw: negative offset");
    auto at = [&](int k) { return heapF32(env, info[0], static_cast<size_t>(r[k]), n); };
    float *w = at(0), *wo = at(1), *g = at(2), *m = at(3), *mo = at(4), *v = at(5), *vo = at(6);
    for (int64_t lo = 0; lo < n; lo += kChunk) {
      const int64_t len = std::min(kChunk, n - lo);
      spans.push_back({w + lo, g + lo, m + lo, v + lo, wo + lo, mo + lo, vo + lo, len, r[8] != 0});
    }
    total += n;
  }
  auto body = [&](size_t i) {
    const Span& s = spans[i];
    adamwSpan(s.w, s.wo, s.g, s.m, s.mo, s.v, s.vo, s.n, s.decay, c);
  };
  if (g_pool.size() > 1 && total >= (1 << 17) && spans.size() > 1) {
    g_pool.run(static_cast<int>(spans.size()), [&](int i) { body(static_cast<size_t>(i)); });
  } else {
    for (size_t i = 0; i < spans.size(); ++i) body(i);
  }
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// Fused channels-last norms over x viewed as [R, C] (lib/ops/fused-norm.ts).
// Forward: one pass per row (statistics in double, the output in float32 in
// the order of the unfused ops). Backward: one pass per row giving dx, with
// the parameter gradients (dgamma, dbeta, dalpha) accumulated in double per
// block of kRowBlock rows and summed over blocks in a fixed order, so results
// do not depend on the thread count.
constexpr int64_t kRowBlock = 64;

// Optional heap pointer: a negative offset means "absent".
float* optF32(const Napi::Env& env, const Napi::Value& heap, const Napi::Value& off, size_t count) {
  const double o = off.As<Napi::Number>().DoubleValue();
  if (o < 0) return nullptr;
  return heapF32(env, heap, static_cast<size_t>(o), count);
}

// Run body(block) over ceil(R / kRowBlock) blocks on the pool when the tensor is big enough.
template <class F>
void overRowBlocks(int64_t R, int64_t C, F&& body) {
  const int64_t blocks = (R + kRowBlock - 1) / kRowBlock;
  if (g_pool.size() > 1 && R * C >= (1 << 15) && blocks > 1) {
    g_pool.run(static_cast<int>(blocks), [&](int b) { body(static_cast<int64_t>(b)); });
  } else {
    for (int64_t b = 0; b < blocks; ++b) body(b);
  }
}

// Parameter gradients: per-block double partials, summed in block order.
struct ParamAcc {
  int64_t blocks, C;
  std::vector<double> dg, db, da;
  ParamAcc(int64_t R, int64_t C_, bool g, bool b, bool a)
      : blocks((R + kRowBlock - 1) / kRowBlock), C(C_), dg(g ? blocks * C_ : 0, 0.0), db(b ? blocks * C_ : 0, 0.0), da(a ? blocks : 0, 0.0) {}
  void finish(float* dgOut, float* dbOut, float* daOut) const {
    if (dgOut)
      for (int64_t c = 0; c < C; ++c) {
        double s = 0;
        for (int64_t k = 0; k < blocks; ++k) s += dg[k * C + c];
        dgOut[c] = static_cast<float>(s);
      }
    if (dbOut)
      for (int64_t c = 0; c < C; ++c) {
        double s = 0;
        for (int64_t k = 0; k < blocks; ++k) s += db[k * C + c];
        dbOut[c] = static_cast<float>(s);
      }
    if (daOut) {
      double s = 0;
      for (int64_t k = 0; k < blocks; ++k) s += da[k];
      daOut[0] = static_cast<float>(s);
    }
  }
};

// Row sums in double as eight partial sums, lane k taking the elements with
// c mod 8 = k, combined pairwise at the end. The order is fixed, so every
// clone and thread count gives the same bits; and the eight chains are
// independent, so the clones vectorise them. (One scalar chain of double adds
// per statistic kept these row loops scalar and bound by add latency: LN's
// forward took ~1 ns per element.)
constexpr int kSumLanes = 8;
static inline __attribute__((always_inline)) double sumLanes(const double* p) {
  return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}

// p[k] += term(i) for every i < n with i mod 8 = k, in increasing i: the
// lanes sumLanes combines. Inlined into each clone, where it vectorises.
template <class Term>
static inline __attribute__((always_inline)) void addLanes(double* p, int64_t n, Term term) {
  int64_t i = 0;
  for (; i + kSumLanes <= n; i += kSumLanes)
    for (int k = 0; k < kSumLanes; ++k) p[k] += term(i + k);
  for (int k = 0; i + k < n; ++k) p[k] += term(i + k);
}

// Forward of rows [r0, r1) (see NormFwd).
DYT_CLONES void normFwdRows(int kind, const float* __restrict x, const float* __restrict g, const float* __restrict b, float* __restrict y,
                            float* __restrict mean, float* __restrict rstd, int64_t r0, int64_t r1, int64_t C, float epsF) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    float mu = 0.0f;
    if (kind == 0) {
      double p[kSumLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
      addLanes(p, C, [&](int64_t c) { return static_cast<double>(xr[c]); });
      mu = static_cast<float>(sumLanes(p) / C);
      mean[r] = mu;
    }
    double q[kSumLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    addLanes(q, C, [&](int64_t c) {
      const float d = xr[c] - mu;
      return static_cast<double>(d) * d;
    });
    const float rs = 1.0f / __builtin_sqrtf(static_cast<float>(sumLanes(q) / C) + epsF);
    rstd[r] = rs;
    for (int64_t k = 0; k < C; ++k) {
      float v = (xr[k] - mu) * rs;
      if (g) v = v * g[k];
      if (b) v = v + b[k];
      yr[k] = v;
    }
  }
}

// Backward of rows [r0, r1) (see NormBwd); xh, dh: C floats of scratch; pg, pb: this block's parameter partials.
DYT_CLONES void normBwdRows(int kind, const float* __restrict dy, const float* __restrict x, const float* __restrict mean, const float* __restrict rstd,
                            const float* __restrict g, float* __restrict dx, double* __restrict pg, double* __restrict pb, float* __restrict xh,
                            float* __restrict dh, int64_t r0, int64_t r1, int64_t C) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * C;
    const float* dyr = dy + r * C;
    const float mu = kind == 0 ? mean[r] : 0.0f;
    const float rs = rstd[r];
    for (int64_t c = 0; c < C; ++c) {
      xh[c] = (xr[c] - mu) * rs;
      dh[c] = g ? dyr[c] * g[c] : dyr[c];
    }
    double p1[kSumLanes] = {0, 0, 0, 0, 0, 0, 0, 0}, p2[kSumLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    addLanes(p1, C, [&](int64_t c) { return static_cast<double>(dh[c]); });
    addLanes(p2, C, [&](int64_t c) { return static_cast<double>(dh[c]) * xh[c]; });
    if (pg)
      for (int64_t k = 0; k < C; ++k) pg[k] += static_cast<double>(dyr[k]) * xh[k];
    if (pb)
      for (int64_t k = 0; k < C; ++k) pb[k] += dyr[k];
    const float m1 = kind == 0 ? static_cast<float>(sumLanes(p1) / C) : 0.0f;
    const float m2 = static_cast<float>(sumLanes(p2) / C);
    float* dxr = dx + r * C;
    for (int64_t k = 0; k < C; ++k) dxr[k] = rs * ((dh[k] - m1) - xh[k] * m2);
  }
}

// DyT backward of rows [r0, r1) (see DytBwd); returns the block's dalpha
// partial. t = tanh(a x) is recomputed one row at a time into C floats of
// scratch that stay in L1 (a whole block's t, 64 rows x C, was a 256 KB
// temporary at C = 1024; measured [4096, 1024]: 3.24 -> 3.13 ms).
DYT_CLONES double dytBwdRows(const float* __restrict dy, const float* __restrict x, const float* __restrict g, float a, float* __restrict dx,
                             double* __restrict pg, double* __restrict pb, float* __restrict tr, float* __restrict dz, int64_t r0, int64_t r1, int64_t C) {
  double pa[kSumLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t r = r0; r < r1; ++r) {
    const float* dyr = dy + r * C;
    const float* xr = x + r * C;
    float* dxr = dx + r * C;
    for (int64_t c = 0; c < C; ++c) tr[c] = tanhF(xr[c] * a);
    for (int64_t c = 0; c < C; ++c) {
      const float dt = g ? dyr[c] * g[c] : dyr[c];
      dz[c] = dt * (1.0f - tr[c] * tr[c]);
      dxr[c] = dz[c] * a;
    }
    addLanes(pa, C, [&](int64_t c) { return static_cast<double>(dz[c]) * xr[c]; });
    if (pg)
      for (int64_t k = 0; k < C; ++k) pg[k] += static_cast<double>(dyr[k]) * tr[k];
    if (pb)
      for (int64_t k = 0; k < C; ++k) pb[k] += dyr[k];
  }
  return sumLanes(pa);
}

// kind: 0 layernorm, 1 rmsnorm.
// normFwd(heap, kind, x, gamma|-1, beta|-1, y, mean|-1, rstd, R, C, eps)
Napi::Value NormFwd(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 11) throw Napi::TypeError::New(env, "normFwd: 11 arguments expected");
  const int kind = info[1].As<Napi::Number>().Int32Value();
  const int64_t R = info[8].As<Napi::Number>().Int64Value(), C = info[9].As<Napi::Number>().Int64Value();
  const double eps = info[10].As<Napi::Number>().DoubleValue();
  if (R < 0 || C <= 0 || (kind != 0 && kind != 1)) throw Napi::RangeError::New(env, "normFwd: bad kind or size");
  if (R == 0) return env.Undefined();
  const float* x = optF32(env, info[0], info[2], R * C);
  const float* g = optF32(env, info[0], info[3], C);
  const float* b = optF32(env, info[0], info[4], C);
  float* y = optF32(env, info[0], info[5], R * C);
  float* mean = optF32(env, info[0], info[6], R);
  float* rstd = optF32(env, info[0], info[7], R);
  if (!x || !y || !rstd || (kind == 0 && !mean)) throw Napi::RangeError::New(env, "normFwd: missing buffer");
  const float epsF = static_cast<float>(eps);
  overRowBlocks(R, C, [&](int64_t blk) { normFwdRows(kind, x, g, b, y, mean, rstd, blk * kRowBlock, std::min(R, (blk + 1) * kRowBlock), C, epsF); });
  return env.Undefined();
}

// normBwd(heap, kind, dy, x, mean|-1, rstd, gamma|-1, dx, dgamma|-1, dbeta|-1, R, C)
//   layernorm: dx = rstd * (dxh - mean(dxh) - xhat * mean(dxh * xhat)), dxh = dy * gamma
//   rmsnorm:   dx = rstd * (dxh - xhat * mean(dxh * xhat))
Napi::Value NormBwd(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 12) throw Napi::TypeError::New(env, "normBwd: 12 arguments expected");
  const int kind = info[1].As<Napi::Number>().Int32Value();
  const int64_t R = info[10].As<Napi::Number>().Int64Value(), C = info[11].As<Napi::Number>().Int64Value();
  if (R < 0 || C <= 0 || (kind != 0 && kind != 1)) throw Napi::RangeError::New(env, "normBwd: bad kind or size");
  float* dg = optF32(env, info[0], info[8], C);
  float* db = optF32(env, info[0], info[9], C);
  if (R == 0) {
    if (dg) std::fill(dg, dg + C, 0.0f);
    if (db) std::fill(db, db + C, 0.0f);
    return env.Undefined();
  }
  const float* dy = optF32(env, info[0], info[2], R * C);
  const float* x = optF32(env, info[0], info[3], R * C);
  const float* mean = optF32(env, info[0], info[4], R);
  const float* rstd = optF32(env, info[0], info[5], R);
  const float* g = optF32(env, info[0], info[6], C);
  float* dx = optF32(env, info[0], info[7], R * C);
  if (!dy || !x || !rstd || !dx || (kind == 0 && !mean)) throw Napi::RangeError::New(env, "normBwd: missing buffer");
  ParamAcc acc(R, C, dg != nullptr, db != nullptr, false);
  overRowBlocks(R, C, [&](int64_t blk) {
    std::vector<float> xh(C), dh(C);
    double* pg = dg ? acc.dg.data() + blk * C : nullptr;
    double* pb = db ? acc.db.data() + blk * C : nullptr;
    normBwdRows(kind, dy, x, mean, rstd, g, dx, pg, pb, xh.data(), dh.data(), blk * kRowBlock, std::min(R, (blk + 1) * kRowBlock), C);
  });
  acc.finish(dg, db, nullptr);
  return env.Undefined();
}

DYT_CLONES void tanhScaled(const float* __restrict x, float a, float* __restrict t, int64_t n) {
  for (int64_t i = 0; i < n; ++i) t[i] = tanhF(x[i] * a);
}

// dytFwd(heap, x, alpha, gamma|-1, beta|-1, y, R, C): y = tanh(alpha * x) * gamma + beta
Napi::Value DytFwd(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 8) throw Napi::TypeError::New(env, "dytFwd: 8 arguments expected");
  const int64_t R = info[6].As<Napi::Number>().Int64Value(), C = info[7].As<Napi::Number>().Int64Value();
  if (R < 0 || C <= 0) throw Napi::RangeError::New(env, "dytFwd: bad size");
  if (R == 0) return env.Undefined();
  const float* x = optF32(env, info[0], info[1], R * C);
  const float* al = optF32(env, info[0], info[2], 1);
  const float* g = optF32(env, info[0], info[3], C);
  const float* b = optF32(env, info[0], info[4], C);
  float* y = optF32(env, info[0], info[5], R * C);
  if (!x || !al || !y) throw Napi::RangeError::New(env, "dytFwd: missing buffer");
  const float a = al[0];
  overRowBlocks(R, C, [&](int64_t blk) {
    const int64_t r0 = blk * kRowBlock, r1 = std::min(R, r0 + kRowBlock);
    float* yb = y + r0 * C;
    tanhScaled(x + r0 * C, a, yb, (r1 - r0) * C);
    if (g || b)
      for (int64_t r = r0; r < r1; ++r) {
        float* yr = y + r * C;
        if (g)
          for (int64_t c = 0; c < C; ++c) yr[c] = yr[c] * g[c];
        if (b)
          for (int64_t c = 0; c < C; ++c) yr[c] = yr[c] + b[c];
      }
  });
  return env.Undefined();
}

// dytBwd(heap, dy, x, alpha, gamma|-1, dx, dalpha, dgamma|-1, dbeta|-1, R, C)
//   t = tanh(alpha x), dz = dy * gamma * (1 - t^2): dx = alpha dz, dalpha = sum(dz x),
//   dgamma = sum(dy t), dbeta = sum(dy).
Napi::Value DytBwd(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 11) throw Napi::TypeError::New(env, "dytBwd: 11 arguments expected");
  const int64_t R = info[9].As<Napi::Number>().Int64Value(), C = info[10].As<Napi::Number>().Int64Value();
  if (R < 0 || C <= 0) throw Napi::RangeError::New(env, "dytBwd: bad size");
  float* da = optF32(env, info[0], info[6], 1);
  float* dg = optF32(env, info[0], info[7], C);
  float* db = optF32(env, info[0], info[8], C);
  if (!da) throw Napi::RangeError::New(env, "dytBwd: missing dalpha");
  if (R == 0) {
    da[0] = 0.0f;
    if (dg) std::fill(dg, dg + C, 0.0f);
    if (db) std::fill(db, db + C, 0.0f);
    return env.Undefined();
  }
  const float* dy = optF32(env, info[0], info[1], R * C);
  const float* x = optF32(env, info[0], info[2], R * C);
  const float* al = optF32(env, info[0], info[3], 1);
  const float* g = optF32(env, info[0], info[4], C);
  float* dx = optF32(env, info[0], info[5], R * C);
  if (!dy || !x || !al || !dx) throw Napi::RangeError::New(env, "dytBwd: missing buffer");
  const float a = al[0];
  ParamAcc acc(R, C, dg != nullptr, db != nullptr, true);
  overRowBlocks(R, C, [&](int64_t blk) {
    const int64_t r0 = blk * kRowBlock, r1 = std::min(R, r0 + kRowBlock);
    double* pg = dg ? acc.dg.data() + blk * C : nullptr;
    double* pb = db ? acc.db.data() + blk * C : nullptr;
    std::vector<float> t(C), dz(C);
    const double sa = dytBwdRows(dy, x, g, a, dx, pg, pb, t.data(), dz.data(), r0, r1, C);
    acc.da[blk] = sa;
  });
  acc.finish(dg, db, da);
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// Fused attention core (lib/ops/fused-attention.ts), per (batch*head) slice:
//   S = scale * Q K^T (+ causal mask: S[i, j] = -inf for j > i), P = softmax_rows(S), O = P V
// Q [Tq, dh], K [Tk, dh], V [Tk, dv], all contiguous per slice. Backward:
//   dP = dO V^T, dS = P * (dP - rowsum(dP * P)), dQ = scale dS K, dK = scale dS^T Q, dV = P^T dO.
// Slices are spread over the pool; each product is one single-threaded sgemm.

// attnFwd(heap, q, k, v, o, p, BH, Tq, Tk, dh, dv, scale, causal)

// The softmax over each score row (causal rows see their first n keys; the
// rest are set to 0), and its backward dS = P * (dP - rowsum(dP * P)) in
// place: row max, exps, and the row sums in eight partial sums (sumLanes), in
// one vectorised clone per slice. (Written per element in the caller, the
// double sums stayed scalar chains.)
DYT_CLONES void softmaxRows(float* __restrict P, int64_t Tq, int64_t Tk, bool causal) {
  for (int64_t r = 0; r < Tq; ++r) {
    float* row = P + r * Tk;
    // Causal: query r sees keys 0..r + (Tk - Tq) (aligned at the end when Tk > Tq).
    const int64_t n = causal ? std::min<int64_t>(Tk, std::max<int64_t>(0, r + (Tk - Tq) + 1)) : Tk;
    float mx = -__builtin_inff();
    for (int64_t j = 0; j < n; ++j) mx = std::max(mx, row[j]);
    for (int64_t j = 0; j < n; ++j) row[j] = expF(row[j] - mx);
    double p[kSumLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    addLanes(p, n, [&](int64_t j) { return static_cast<double>(row[j]); });
    const float s = static_cast<float>(sumLanes(p));
    for (int64_t q = 0; q < n; ++q) row[q] = row[q] / s;
    for (int64_t q = n; q < Tk; ++q) row[q] = 0.0f;
  }
}

DYT_CLONES void softmaxBwdRows(float* __restrict dS, const float* __restrict P, int64_t Tq, int64_t Tk) {
  for (int64_t r = 0; r < Tq; ++r) {
    float* row = dS + r * Tk;
    const float* pr = P + r * Tk;
    double p[kSumLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    addLanes(p, Tk, [&](int64_t j) { return static_cast<double>(row[j]) * pr[j]; });
    const float d = static_cast<float>(sumLanes(p));
    for (int64_t q = 0; q < Tk; ++q) row[q] = pr[q] * (row[q] - d);
  }
}

// Slice layout of the attention kernels. Default: BH contiguous [T, d]
// slices. Packed (issue 11; lib/ops/fused-attention.ts attentionPacked): q, k
// and v are column blocks of one [B, T, 3, H, dh] projection and o is
// [B, T, H, dv], so slice i = (b, h) starts at b T ld + h d with row stride
// ld; the head split and merge need no transposes (sgemm takes the strides).
struct AttnLayout {
  int64_t H = 1, ldq = 0, ldk = 0, ldv = 0, ldo = 0;
  int64_t q(int64_t i, int64_t T, int64_t dh) const { return (i / H) * T * ldq + (i % H) * dh; }
  int64_t k(int64_t i, int64_t T, int64_t dh) const { return (i / H) * T * ldk + (i % H) * dh; }
  int64_t v(int64_t i, int64_t T, int64_t dv) const { return (i / H) * T * ldv + (i % H) * dv; }
  int64_t o(int64_t i, int64_t T, int64_t dv) const { return (i / H) * T * ldo + (i % H) * dv; }
  // Floats an operand spans from its base: the last row ends H * width into its stride.
  static int64_t extent(int64_t BH, int64_t H, int64_t T, int64_t ld, int64_t width) { return ((BH / H) * T - 1) * ld + H * width; }
};

// Optional trailing (H, ldq, ldk, ldv, ldo) at info[at..]; absent: the contiguous default.
AttnLayout attnLayout(const Napi::CallbackInfo& info, size_t at, int64_t BH, int64_t dh, int64_t dv, const char* who) {
  AttnLayout L{1, dh, dh, dv, dv};
  if (info.Length() > at && info[at].IsNumber()) {
    auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
    if (info.Length() < at + 5) throw Napi::TypeError::New(info.Env(), std::string(who) + ": layout needs H, ldq, ldk, ldv, ldo");
    L = {num(at), num(at + 1), num(at + 2), num(at + 3), num(at + 4)};
    if (L.H < 1 || BH % L.H != 0 || L.ldq < L.H * dh || L.ldk < L.H * dh || L.ldv < L.H * dv || L.ldo < L.H * dv)
      throw Napi::RangeError::New(info.Env(), std::string(who) + ": bad layout (H must divide BH, strides must hold H heads)");
  }
  return L;
}

Napi::Value AttnFwd(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 13) throw Napi::TypeError::New(env, "attnFwd: 13 arguments expected");
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  const int64_t BH = num(6), Tq = num(7), Tk = num(8), dh = num(9), dv = num(10);
  const float scale = static_cast<float>(info[11].As<Napi::Number>().DoubleValue());
  const bool causal = info[12].ToBoolean();
  if (BH < 0 || Tq <= 0 || Tk <= 0 || dh <= 0 || dv <= 0) throw Napi::RangeError::New(env, "attnFwd: bad size");
  if (BH == 0) return env.Undefined();
  const AttnLayout L = attnLayout(info, 13, BH, dh, dv, "attnFwd");
  const float* Q = optF32(env, info[0], info[1], AttnLayout::extent(BH, L.H, Tq, L.ldq, dh));
  const float* K = optF32(env, info[0], info[2], AttnLayout::extent(BH, L.H, Tk, L.ldk, dh));
  const float* V = optF32(env, info[0], info[3], AttnLayout::extent(BH, L.H, Tk, L.ldv, dv));
  float* O = optF32(env, info[0], info[4], AttnLayout::extent(BH, L.H, Tq, L.ldo, dv));
  float* P = optF32(env, info[0], info[5], BH * Tq * Tk);
  if (!Q || !K || !V || !O || !P) throw Napi::RangeError::New(env, "attnFwd: missing buffer");
  auto one = [&](int64_t i) {
    float* Pi = P + i * Tq * Tk;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, dh, scale, Q + L.q(i, Tq, dh), L.ldq, K + L.k(i, Tk, dh), L.ldk, 0.0f, Pi, Tk);
    softmaxRows(Pi, Tq, Tk, causal);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, dv, Tk, 1.0f, Pi, Tk, V + L.v(i, Tk, dv), L.ldv, 0.0f, O + L.o(i, Tq, dv), L.ldo);
  };
  overBands(BH, BH * Tq * Tk * (dh + dv) >= (1 << 16), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) one(i);
  });
  return env.Undefined();
}

// attnBwd(heap, dO, q, k, v, p, dq, dk, dv, BH, Tq, Tk, dh, dv, scale)
Napi::Value AttnBwd(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 15) throw Napi::TypeError::New(env, "attnBwd: 15 arguments expected");
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  const int64_t BH = num(9), Tq = num(10), Tk = num(11), dh = num(12), dvv = num(13);
  const float scale = static_cast<float>(info[14].As<Napi::Number>().DoubleValue());
  if (BH < 0 || Tq <= 0 || Tk <= 0 || dh <= 0 || dvv <= 0) throw Napi::RangeError::New(env, "attnBwd: bad size");
  if (BH == 0) return env.Undefined();
  // The same layout for q, k, v and their gradients; dO has o's.
  const AttnLayout L = attnLayout(info, 15, BH, dh, dvv, "attnBwd");
  const float* dO = optF32(env, info[0], info[1], AttnLayout::extent(BH, L.H, Tq, L.ldo, dvv));
  const float* Q = optF32(env, info[0], info[2], AttnLayout::extent(BH, L.H, Tq, L.ldq, dh));
  const float* K = optF32(env, info[0], info[3], AttnLayout::extent(BH, L.H, Tk, L.ldk, dh));
  const float* V = optF32(env, info[0], info[4], AttnLayout::extent(BH, L.H, Tk, L.ldv, dvv));
  const float* P = optF32(env, info[0], info[5], BH * Tq * Tk);
  float* dQ = optF32(env, info[0], info[6], AttnLayout::extent(BH, L.H, Tq, L.ldq, dh));
  float* dK = optF32(env, info[0], info[7], AttnLayout::extent(BH, L.H, Tk, L.ldk, dh));
  float* dV = optF32(env, info[0], info[8], AttnLayout::extent(BH, L.H, Tk, L.ldv, dvv));
  if (!dO || !Q || !K || !V || !P || !dQ || !dK || !dV) throw Napi::RangeError::New(env, "attnBwd: missing buffer");
  auto range = [&](int64_t lo, int64_t hi) {
    std::vector<float> dS(Tq * Tk);
    for (int64_t i = lo; i < hi; ++i) {
      const float* Pi = P + i * Tq * Tk;
      const float* dOi = dO + L.o(i, Tq, dvv);
      // dV = P^T dO
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, dvv, Tq, 1.0f, Pi, Tk, dOi, L.ldo, 0.0f, dV + L.v(i, Tk, dvv), L.ldv);
      // dP = dO V^T, then dS = P * (dP - rowsum(dP * P)) in place
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, dvv, 1.0f, dOi, L.ldo, V + L.v(i, Tk, dvv), L.ldv, 0.0f, dS.data(), Tk);
      softmaxBwdRows(dS.data(), Pi, Tq, Tk);
      // dQ = scale dS K, dK = scale dS^T Q
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, dh, Tk, scale, dS.data(), Tk, K + L.k(i, Tk, dh), L.ldk, 0.0f, dQ + L.q(i, Tq, dh), L.ldq);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, dh, Tq, scale, dS.data(), Tk, Q + L.q(i, Tq, dh), L.ldq, 0.0f, dK + L.k(i, Tk, dh), L.ldk);
    }
  };
  overBands(BH, BH * Tq * Tk * (dh + dvv) >= (1 << 16), range);
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// Depthwise 2-D convolution, NHWC, channel multiplier 1, dilation 1, stride
// (sh, sw), zero padding top/left (pt, pl), output size (Ho, Wo) given by the
// caller (tfjs's computeConv2DInfo). Filter [kh, kw, C] (tfjs [kh, kw, C, 1]).
// The innermost loop runs over the contiguous channels of one pixel; -O3
// vectorises it (x86-64-v3/v4 clones). No FMA contraction (-ffp-contract=off).
//   forward  y[b,oh,ow,c]  = sum_{i,j} x[b, oh*sh-pt+i, ow*sw-pl+j, c] w[i,j,c]
//   dInput   dx[b,ih,iw,c] = sum over (oh,i) with oh*sh-pt+i = ih (same for w) of dy w
//   dFilter  dw[i,j,c]     = sum_{b,oh,ow} x[b, oh*sh-pt+i, ow*sw-pl+j, c] dy[b,oh,ow,c]
// forward and dInput accumulate each output in float32 (as the wasm/XNNPACK
// kernels do); dFilter sums over up to B*Ho*Wo terms per weight, so each
// output row's partial is float32 and the rows are summed in double in a
// fixed order (results do not depend on the thread count).
struct DwGeo {
  int64_t B, H, W, C, kh, kw, sh, sw, pt, pl, Ho, Wo;
};

DYT_CLONES void dwAxpy(float* __restrict acc, const float* __restrict a, const float* __restrict b, int64_t C) {
  for (int64_t c = 0; c < C; ++c) acc[c] += a[c] * b[c];
}

// Forward rows [r0, r1) of the B*Ho output rows.
void dwForwardRows(const DwGeo& g, const float* x, const float* w, float* y, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t b = r / g.Ho, oh = r % g.Ho;
    const int64_t ih0 = oh * g.sh - g.pt;
    const int64_t i0 = std::max<int64_t>(0, -ih0), i1 = std::min<int64_t>(g.kh, g.H - ih0);
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      float* acc = y + ((b * g.Ho + oh) * g.Wo + ow) * g.C;
      std::fill(acc, acc + g.C, 0.0f);
      const int64_t iw0 = ow * g.sw - g.pl;
      const int64_t j0 = std::max<int64_t>(0, -iw0), j1 = std::min<int64_t>(g.kw, g.W - iw0);
      for (int64_t i = i0; i < i1; ++i) {
        const float* xr = x + ((b * g.H + ih0 + i) * g.W + iw0) * g.C;
        const float* wr = w + i * g.kw * g.C;
        for (int64_t j = j0; j < j1; ++j) dwAxpy(acc, xr + j * g.C, wr + j * g.C, g.C);
      }
    }
  }
}

// dInput rows [r0, r1) of the B*H input rows (a gather: each dx pixel written once).
void dwInputRows(const DwGeo& g, const float* dy, const float* w, float* dx, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t b = r / g.H, ih = r % g.H;
    for (int64_t iw = 0; iw < g.W; ++iw) {
      float* acc = dx + ((b * g.H + ih) * g.W + iw) * g.C;
      std::fill(acc, acc + g.C, 0.0f);
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t t = ih + g.pt - i;
        if (t < 0 || t % g.sh) continue;
        const int64_t oh = t / g.sh;
        if (oh >= g.Ho) continue;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t u = iw + g.pl - j;
          if (u < 0 || u % g.sw) continue;
          const int64_t ow = u / g.sw;
          if (ow >= g.Wo) continue;
          dwAxpy(acc, dy + ((b * g.Ho + oh) * g.Wo + ow) * g.C, w + (i * g.kw + j) * g.C, g.C);
        }
      }
    }
  }
}

// dFilter contribution of output rows [r0, r1) (of B*Ho), added into part (double, kh*kw*C).
void dwFilterRows(const DwGeo& g, const float* x, const float* dy, double* part, float* rowAcc, int64_t r0, int64_t r1) {
  const int64_t K = g.kh * g.kw * g.C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t b = r / g.Ho, oh = r % g.Ho;
    const int64_t ih0 = oh * g.sh - g.pt;
    const int64_t i0 = std::max<int64_t>(0, -ih0), i1 = std::min<int64_t>(g.kh, g.H - ih0);
    std::fill(rowAcc, rowAcc + K, 0.0f);
    for (int64_t ow = 0; ow < g.Wo; ++ow) {
      const float* d = dy + ((b * g.Ho + oh) * g.Wo + ow) * g.C;
      const int64_t iw0 = ow * g.sw - g.pl;
      const int64_t j0 = std::max<int64_t>(0, -iw0), j1 = std::min<int64_t>(g.kw, g.W - iw0);
      for (int64_t i = i0; i < i1; ++i) {
        const float* xr = x + ((b * g.H + ih0 + i) * g.W + iw0) * g.C;
        float* ar = rowAcc + i * g.kw * g.C;
        for (int64_t j = j0; j < j1; ++j) dwAxpy(ar + j * g.C, xr + j * g.C, d, g.C);
      }
    }
    for (int64_t q = 0; q < K; ++q) part[q] += rowAcc[q];
  }
}

// depthwise(buf, op, xOff, wOff, yOff, [B, H, W, C, kh, kw, sh, sw, pt, pl, Ho, Wo])
//   op 0 forward: x, w -> y [B, Ho, Wo, C]
//   op 1 dInput:  (dy at xOff), w -> dx [B, H, W, C] (at yOff)
//   op 2 dFilter: x, (dy at wOff) -> dw [kh, kw, C] (at yOff)
Napi::Value Depthwise(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 6) throw Napi::TypeError::New(env, "depthwise: 6 arguments expected");
  const int op = info[1].As<Napi::Number>().Int32Value();
  const int64_t aOff = info[2].As<Napi::Number>().Int64Value(), bOff = info[3].As<Napi::Number>().Int64Value(),
                cOff = info[4].As<Napi::Number>().Int64Value();
  const auto d = intList(env, info[5], "depthwise geometry");
  if (d.size() != 12) throw Napi::RangeError::New(env, "depthwise: geometry of 12 numbers expected");
  DwGeo g{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11]};
  if (g.B < 0 || g.H < 0 || g.W < 0 || g.C < 0 || g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.Ho < 0 || g.Wo < 0 ||
      aOff < 0 || bOff < 0 || cOff < 0 || op < 0 || op > 2)
    throw Napi::RangeError::New(env, "depthwise: bad op, size or offset");
  // Windows (partly or wholly) in the padding are clipped to the input: any Ho, Wo and padding are safe.
  if (g.pt < 0 || g.pl < 0) throw Napi::RangeError::New(env, "depthwise: negative padding");
  const size_t nx = g.B * g.H * g.W * g.C, ny = g.B * g.Ho * g.Wo * g.C, nw = g.kh * g.kw * g.C;
  const int P_ = g_pool.size();
  const double work = static_cast<double>(ny) * g.kh * g.kw;
  if (op == 0 || op == 1) {
    const float* in = heapF32(env, info[0], aOff, op == 0 ? nx : ny);
    const float* w = heapF32(env, info[0], bOff, nw);
    float* out = heapF32(env, info[0], cOff, op == 0 ? ny : nx);
    const int64_t rows = op == 0 ? g.B * g.Ho : g.B * g.H;
    auto body = [&](int64_t r0, int64_t r1) {
      if (op == 0) dwForwardRows(g, in, w, out, r0, r1);
      else dwInputRows(g, in, w, out, r0, r1);
    };
    overBands(rows, work >= (1 << 16), body);
    return env.Undefined();
  }
  const float* x = heapF32(env, info[0], aOff, nx);
  const float* dy = heapF32(env, info[0], bOff, ny);
  float* dw = heapF32(env, info[0], cOff, nw);
  const int64_t rows = g.B * g.Ho;
  // A fixed number of row blocks (independent of the pool size), each with its own double partial.
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(rows, work >= (1 << 16) ? 8 : 1));
  std::vector<double> part(blocks * nw, 0.0);
  auto body = [&](int64_t t) {
    std::vector<float> rowAcc(nw);
    dwFilterRows(g, x, dy, part.data() + t * nw, rowAcc.data(), rows * t / blocks, rows * (t + 1) / blocks);
  };
  if (P_ > 1 && blocks > 1) g_pool.run(static_cast<int>(blocks), [&](int t) { body(t); });
  else
    for (int64_t t = 0; t < blocks; ++t) body(t);
  for (size_t q = 0; q < nw; ++q) {
    double s = 0;
    for (int64_t t = 0; t < blocks; ++t) s += part[t * nw + q];
    dw[q] = static_cast<float>(s);
  }
  return env.Undefined();
}


// ---------------------------------------------------------------------------
// Causal long convolution by FFT (lib/ops/fft-conv.ts, Hyena's fftconv):
//   y[b, t, c] = sum_{s <= t, s < Lh} h[s, c] x[b, t - s, c]   x [B, L, C], h [Lh, C]
// Rows are zero-padded to n (a power of two >= L + Lh - 1: the circular
// convolution equals the linear one on the first L outputs). Because h is
// real, two batch rows go through one complex transform as x1 + i x2:
// conv(x1 + i x2, h) = conv(x1, h) + i conv(x2, h). The backward (see
// lib/ops/fft-conv.ts) uses the same tricks: dx = rev(conv(rev(dy), h)) two
// rows at a time, dh = rev(sum_b conv(rev(dy_b), x_b)) from one transform of
// rev(dy_b) + i x_b per row, split by Hermitian symmetry.
//
// Layout, for speed (issue 11: the scalar radix-2 version was ~1/3 of
// HyenaDNA's step beyond its matmuls): channels are independent and
// contiguous in [B, L, C], so each transform runs on FFT_LANES channels at
// once, FFT_LANES doubles per time step (one zmm on AVX-512, two ymm on
// AVX2), loaded straight from the channel-contiguous rows.
// The forward transform is decimation in frequency (natural order in,
// bit-reversed out) and the inverse decimation in time (bit-reversed in,
// natural out), so neither needs a bit-reversal pass; the pointwise products
// and the Hermitian split work in bit-reversed order. The first stage skips
// the zero upper half of a padded row and the inverse's last stage computes
// only the outputs that are read. Double precision, as in the host version;
// channels are split over the pool, so results do not depend on threads.
constexpr int FFT_LANES = 8;

struct FftPlan {
  int64_t n = 0;
  std::vector<double> cs, sn;   // e^{-2 pi i k / n} = cs[k] + i sn[k], k < n / 2
  std::vector<uint32_t> conjAt; // bit-reversed order: position of the bin conjugate to the one at j
};
std::mutex g_fftMu;
std::vector<std::unique_ptr<FftPlan>> g_fftPlans;

const FftPlan& fftPlan(int64_t n) {
  std::lock_guard<std::mutex> lk(g_fftMu);
  for (auto& p : g_fftPlans)
    if (p->n == n) return *p;
  auto p = std::make_unique<FftPlan>();
  p->n = n;
  p->cs.resize(n / 2);
  p->sn.resize(n / 2);
  for (int64_t k = 0; k < n / 2; ++k) {
    p->cs[k] = std::cos(2 * M_PI * k / n);
    p->sn[k] = -std::sin(2 * M_PI * k / n);
  }
  int bits = 0;
  while ((int64_t{1} << bits) < n) ++bits;
  std::vector<uint32_t> rev(n);
  for (int64_t i = 0; i < n; ++i) {
    uint32_t r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  // Position j holds bin rev[j]; its conjugate bin (n - rev[j]) mod n sits at rev[] of that.
  p->conjAt.resize(n);
  for (int64_t j = 0; j < n; ++j) p->conjAt[j] = rev[(n - rev[j]) & (n - 1)];
  g_fftPlans.push_back(std::move(p));
  return *g_fftPlans.back();
}

// The transforms, the spectrum product and the Hermitian split, written once
// over a vector type V of doubles (GCC vector extensions) and instantiated per
// ISA below: an element of a buffer (FFT_LANES doubles, 64-byte aligned) is
// kPer vectors. Plain lane loops under target_clones were tried and GCC
// vectorised them across k with gathers (2x slower); one 512-bit vector type
// for every clone lowered scalar twiddles through the stack on AVX2 (3x
// slower than scalar). So each ISA gets its native width, dispatched by hand.
template <typename V>
struct FftOps {
  static constexpr int kPer = FFT_LANES * sizeof(double) / sizeof(V);
  static_assert(kPer * sizeof(V) == FFT_LANES * sizeof(double), "FFT_LANES doubles must be whole vectors");

  // Forward transform, natural order in, bit-reversed order out (decimation
  // in frequency). zeroUpper: the input's upper half is zero (a padded row).
  static inline __attribute__((always_inline)) void dif(const FftPlan& p, double* re_, double* im_, bool zeroUpper) {
    V* __restrict re = reinterpret_cast<V*>(re_);
    V* __restrict im = reinterpret_cast<V*>(im_);
    const int64_t n = p.n;
    int64_t size = n;
    if (zeroUpper && n >= 2) {
      const int64_t half = n >> 1;
      for (int64_t k = 0; k < half; ++k) {
        const V wr = (V{} + p.cs[k]), wi = (V{} + p.sn[k]);
        for (int j = 0; j < kPer; ++j) {
          const int64_t a = k * kPer + j, b = a + half * kPer;
          const V ur = re[a], ui = im[a];
          re[b] = ur * wr - ui * wi;
          im[b] = ur * wi + ui * wr;
        }
      }
      size = half;
    }
    for (; size >= 2; size >>= 1) {
      const int64_t half = size >> 1, step = n / size;
      for (int64_t start = 0; start < n; start += size) {
        for (int64_t k = 0; k < half; ++k) {
          const V wr = (V{} + p.cs[k * step]), wi = (V{} + p.sn[k * step]);
          for (int j = 0; j < kPer; ++j) {
            const int64_t a = (start + k) * kPer + j, b = a + half * kPer;
            const V ur = re[a], ui = im[a], vr = re[b], vi = im[b];
            re[a] = ur + vr;
            im[a] = ui + vi;
            const V dr = ur - vr, di = ui - vi;
            re[b] = dr * wr - di * wi;
            im[b] = dr * wi + di * wr;
          }
        }
      }
    }
  }

  // Inverse transform (conjugate twiddles, unscaled), bit-reversed order in,
  // natural order out (decimation in time). lowerOnly: only outputs < n / 2 are read.
  static inline __attribute__((always_inline)) void ditInv(const FftPlan& p, double* re_, double* im_, bool lowerOnly) {
    V* __restrict re = reinterpret_cast<V*>(re_);
    V* __restrict im = reinterpret_cast<V*>(im_);
    const int64_t n = p.n;
    for (int64_t size = 2; size <= n; size <<= 1) {
      const int64_t half = size >> 1, step = n / size;
      const bool partial = lowerOnly && size == n;
      for (int64_t start = 0; start < n; start += size) {
        for (int64_t k = 0; k < half; ++k) {
          const V wr = (V{} + p.cs[k * step]), wi = (V{} - p.sn[k * step]);
          for (int j = 0; j < kPer; ++j) {
            const int64_t a = (start + k) * kPer + j, b = a + half * kPer;
            const V xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
            if (!partial) {
              re[b] = re[a] - xr;
              im[b] = im[a] - xi;
            }
            re[a] += xr;
            im[a] += xi;
          }
        }
      }
    }
  }

  // (re, im) *= (hr, hi) over n elements.
  static inline __attribute__((always_inline)) void mul(int64_t n, double* re_, double* im_, const double* hr_, const double* hi_) {
    V* __restrict re = reinterpret_cast<V*>(re_);
    V* __restrict im = reinterpret_cast<V*>(im_);
    const V* __restrict hr = reinterpret_cast<const V*>(hr_);
    const V* __restrict hi = reinterpret_cast<const V*>(hi_);
    for (int64_t k = 0; k < n * kPer; ++k) {
      const V a = re[k] * hr[k] - im[k] * hi[k];
      im[k] = re[k] * hi[k] + im[k] * hr[k];
      re[k] = a;
    }
  }

  // Hermitian split of z = D + i X (D, X the spectra of real rows;
  // bit-reversed order): p += D X, and w = D H (first row of a pair) or
  // w += i D H (second).
  static inline __attribute__((always_inline)) void split(const FftPlan& p, const double* zr_, const double* zi_, const double* hr_, const double* hi_,
                                                          double* pr_, double* pi_, double* wr_, double* wi_, bool second) {
    const V* __restrict zr = reinterpret_cast<const V*>(zr_);
    const V* __restrict zi = reinterpret_cast<const V*>(zi_);
    const V* __restrict hr = reinterpret_cast<const V*>(hr_);
    const V* __restrict hi = reinterpret_cast<const V*>(hi_);
    V* __restrict pr = reinterpret_cast<V*>(pr_);
    V* __restrict pi = reinterpret_cast<V*>(pi_);
    V* __restrict wr = reinterpret_cast<V*>(wr_);
    V* __restrict wi = reinterpret_cast<V*>(wi_);
    const uint32_t* conj = p.conjAt.data();
    const V half = (V{} + 0.5);
    for (int64_t k = 0; k < p.n; ++k) {
      for (int j = 0; j < kPer; ++j) {
        const int64_t a = k * kPer + j, b = static_cast<int64_t>(conj[k]) * kPer + j;
        // D = (Z + conj Z[-k]) / 2, X = (Z - conj Z[-k]) / 2i.
        const V Dr = (zr[a] + zr[b]) * half, Di = (zi[a] - zi[b]) * half;
        const V Xr = (zi[a] + zi[b]) * half, Xi = (zr[b] - zr[a]) * half;
        pr[a] += Dr * Xr - Di * Xi;
        pi[a] += Dr * Xi + Di * Xr;
        const V Er = Dr * hr[a] - Di * hi[a], Ei = Dr * hi[a] + Di * hr[a];
        if (second) {
          wr[a] -= Ei;
          wi[a] += Er;
        } else {
          wr[a] = Er;
          wi[a] = Ei;
        }
      }
    }
  }
};

struct FftKernels {
  void (*dif)(const FftPlan&, double*, double*, bool);
  void (*ditInv)(const FftPlan&, double*, double*, bool);
  void (*mul)(int64_t, double*, double*, const double*, const double*);
  void (*split)(const FftPlan&, const double*, const double*, const double*, const double*, double*, double*, double*, double*, bool);
};

// One kernel set per ISA: each function is compiled for its target, with FftOps<V> inlined into it.
#define DYT_FFT_KERNEL_SET(NAME, ATTR, V)                                                                                              \
  ATTR void NAME##Dif(const FftPlan& p, double* re, double* im, bool z) { FftOps<V>::dif(p, re, im, z); }                            \
  ATTR void NAME##DitInv(const FftPlan& p, double* re, double* im, bool z) { FftOps<V>::ditInv(p, re, im, z); }                      \
  ATTR void NAME##Mul(int64_t n, double* re, double* im, const double* hr, const double* hi) { FftOps<V>::mul(n, re, im, hr, hi); } \
  ATTR void NAME##Split(const FftPlan& p, const double* zr, const double* zi, const double* hr, const double* hi, double* pr,       \
                        double* pi, double* wr, double* wi, bool second) {                                                         \
    FftOps<V>::split(p, zr, zi, hr, hi, pr, pi, wr, wi, second);                                                                   \
  }                                                                                                                                \
  const FftKernels NAME{NAME##Dif, NAME##DitInv, NAME##Mul, NAME##Split};

typedef double FftV2 __attribute__((vector_size(16)));
DYT_FFT_KERNEL_SET(fftBaseline, , FftV2)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
typedef double FftV4 __attribute__((vector_size(32)));
DYT_FFT_KERNEL_SET(fftAvx2, __attribute__((target("arch=x86-64-v3"))), FftV4)
#if !defined(DYT_MAX_X86_64_V3)
typedef double FftV8 __attribute__((vector_size(64)));
DYT_FFT_KERNEL_SET(fftAvx512, __attribute__((target("arch=x86-64-v4"))), FftV8)
#endif
#endif

// The set for this CPU, capped by the build (the same level the clones pick).
const FftKernels& fftKernels() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  const int level = simdLevel();
#if !defined(DYT_MAX_X86_64_V3)
  if (level >= 4) return fftAvx512;
#endif
  if (level >= 3) return fftAvx2;
#endif
  return fftBaseline;
}

struct FftGeo {
  int64_t B, L, C, Lh;
};

// Lane l of element t = src[t * stride + l] (t < rows, l < nc), zero elsewhere up to n;
// reversed reads row rows - 1 - t.
DYT_CLONES void fftLoad(double* __restrict v, const float* __restrict src, int64_t stride, int64_t rows, int nc, int64_t n, bool reversed) {
  for (int64_t t = 0; t < rows; ++t) {
    const float* s = src + (reversed ? rows - 1 - t : t) * stride;
    double* d = v + t * FFT_LANES;
    if (nc == FFT_LANES) {
      for (int l = 0; l < FFT_LANES; ++l) d[l] = s[l];
    } else {
      for (int l = 0; l < FFT_LANES; ++l) d[l] = l < nc ? s[l] : 0.0;
    }
  }
  std::fill(v + rows * FFT_LANES, v + n * FFT_LANES, 0.0);
}

// dst[t * stride + l] = lane l of element t, times scale (t < rows, l < nc); reversed reads element rows - 1 - t.
DYT_CLONES void fftStore(const double* __restrict v, float* __restrict dst, int64_t stride, int64_t rows, int nc, double scale, bool reversed) {
  for (int64_t t = 0; t < rows; ++t) {
    const double* s = v + (reversed ? rows - 1 - t : t) * FFT_LANES;
    float* d = dst + t * stride;
    if (nc == FFT_LANES) {
      for (int l = 0; l < FFT_LANES; ++l) d[l] = static_cast<float>(s[l] * scale);
    } else {
      for (int l = 0; l < nc; ++l) d[l] = static_cast<float>(s[l] * scale);
    }
  }
}

int64_t nextPow2(int64_t m) {
  int64_t n = 1;
  while (n < m) n <<= 1;
  return n;
}

FftGeo fftGeo(const Napi::CallbackInfo& info, size_t at) {
  auto env = info.Env();
  FftGeo g{info[at].As<Napi::Number>().Int64Value(), info[at + 1].As<Napi::Number>().Int64Value(), info[at + 2].As<Napi::Number>().Int64Value(),
           info[at + 3].As<Napi::Number>().Int64Value()};
  if (g.B < 1 || g.L < 1 || g.C < 1 || g.Lh < 1 || g.Lh > g.L) throw Napi::RangeError::New(env, "fftConv: need B, L, C >= 1 and 1 <= Lh <= L");
  return g;
}

// Runs body(c0, nc, work) for each block of FFT_LANES channels (the last may
// be narrower) on the pool; work is a 64-byte aligned scratch of `elems`
// elements (FFT_LANES doubles each) per task.
void overChannelBlocks(const FftGeo& g, int64_t elems, const std::function<void(int64_t, int, double*)>& body) {
  const int64_t blocks = (g.C + FFT_LANES - 1) / FFT_LANES;
  overBands(blocks, true, [&](int64_t lo, int64_t hi) {
    std::unique_ptr<double, decltype(&std::free)> work(static_cast<double*>(std::aligned_alloc(64, elems * FFT_LANES * sizeof(double))), &std::free);
    if (!work) std::abort();
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t c0 = q * FFT_LANES;
      body(c0, static_cast<int>(std::min<int64_t>(FFT_LANES, g.C - c0)), work.get());
    }
  });
}

// fftConvFwd(buf, xOff, hOff, yOff, B, L, C, Lh): y [B, L, C].
Napi::Value FftConvFwd(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 8) throw Napi::TypeError::New(env, "fftConvFwd: 8 arguments expected");
  const FftGeo g = fftGeo(info, 4);
  const size_t nx = g.B * g.L * g.C;
  const float* x = heapF32(env, info[0], info[1].As<Napi::Number>().Int64Value(), nx);
  const float* h = heapF32(env, info[0], info[2].As<Napi::Number>().Int64Value(), g.Lh * g.C);
  float* y = heapF32(env, info[0], info[3].As<Napi::Number>().Int64Value(), nx);
  const FftPlan& p = fftPlan(nextPow2(g.L + g.Lh - 1));
  const int64_t n = p.n;
  const bool rowHalf = 2 * g.L <= n;
  const int64_t nd = n * FFT_LANES;
  const FftKernels& K = fftKernels();
  overChannelBlocks(g, 4 * n, [&](int64_t c0, int nc, double* w) {
    double *hr = w, *hi = hr + nd, *re = hi + nd, *im = re + nd;
    fftLoad(hr, h + c0, g.C, g.Lh, nc, n, false);
    fftLoad(hi, h, g.C, 0, nc, n, false);
    K.dif(p, hr, hi, 2 * g.Lh <= n);
    for (int64_t b = 0; b < g.B; b += 2) {
      const bool pair = b + 1 < g.B;
      fftLoad(re, x + b * g.L * g.C + c0, g.C, g.L, nc, n, false);
      fftLoad(im, x + (b + 1) * g.L * g.C + c0, g.C, pair ? g.L : 0, nc, n, false);
      K.dif(p, re, im, rowHalf);
      K.mul(n, re, im, hr, hi);
      K.ditInv(p, re, im, rowHalf);
      fftStore(re, y + b * g.L * g.C + c0, g.C, g.L, nc, 1.0 / n, false);
      if (pair) fftStore(im, y + (b + 1) * g.L * g.C + c0, g.C, g.L, nc, 1.0 / n, false);
    }
  });
  return env.Undefined();
}

// fftConvBwd(buf, xOff, hOff, dyOff, dxOff, dhOff, B, L, C, Lh): dx [B, L, C], dh [Lh, C].
Napi::Value FftConvBwd(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 10) throw Napi::TypeError::New(env, "fftConvBwd: 10 arguments expected");
  const FftGeo g = fftGeo(info, 6);
  const size_t nx = g.B * g.L * g.C;
  const float* x = heapF32(env, info[0], info[1].As<Napi::Number>().Int64Value(), nx);
  const float* h = heapF32(env, info[0], info[2].As<Napi::Number>().Int64Value(), g.Lh * g.C);
  const float* dy = heapF32(env, info[0], info[3].As<Napi::Number>().Int64Value(), nx);
  float* dx = heapF32(env, info[0], info[4].As<Napi::Number>().Int64Value(), nx);
  float* dh = heapF32(env, info[0], info[5].As<Napi::Number>().Int64Value(), g.Lh * g.C);
  // dh needs conv(rev(dy), x) of two length-L rows: 2L - 1 bins at least.
  const FftPlan& p = fftPlan(nextPow2(2 * g.L - 1));
  const int64_t n = p.n;
  const bool rowHalf = 2 * g.L <= n;
  const int64_t nd = n * FFT_LANES;
  const FftKernels& K = fftKernels();
  overChannelBlocks(g, 8 * n, [&](int64_t c0, int nc, double* w) {
    double *hr = w, *hi = hr + nd, *zr = hi + nd, *zi = zr + nd, *wr = zi + nd, *wi = wr + nd, *pr = wi + nd, *pi = pr + nd;
    fftLoad(hr, h + c0, g.C, g.Lh, nc, n, false);
    fftLoad(hi, h, g.C, 0, nc, n, false);
    K.dif(p, hr, hi, 2 * g.Lh <= n);
    std::fill(pr, pr + 2 * nd, 0.0);
    for (int64_t b = 0; b < g.B; b += 2) {
      const int64_t q1 = std::min(b + 2, g.B);
      for (int64_t q = b; q < q1; ++q) {
        fftLoad(zr, dy + q * g.L * g.C + c0, g.C, g.L, nc, n, true);
        fftLoad(zi, x + q * g.L * g.C + c0, g.C, g.L, nc, n, false);
        K.dif(p, zr, zi, rowHalf);
        K.split(p, zr, zi, hr, hi, pr, pi, wr, wi, q > b);
      }
      K.ditInv(p, wr, wi, rowHalf);
      fftStore(wr, dx + b * g.L * g.C + c0, g.C, g.L, nc, 1.0 / n, true);
      if (q1 - b == 2) fftStore(wi, dx + (b + 1) * g.L * g.C + c0, g.C, g.L, nc, 1.0 / n, true);
    }
    K.ditInv(p, pr, pi, rowHalf);
    // dh[s] = rev(P)[s] = P[L - 1 - s].
    fftStore(pr + (g.L - g.Lh) * FFT_LANES, dh + c0, g.C, g.Lh, nc, 1.0 / n, true);
  });
  return env.Undefined();
}


// ---------------------------------------------------------------------------
// Patches of a strided 1-D convolution, channels last (lib/ops/conv1d.ts
// unfold1d): cols[b, t, j C + c] = x[b, t s + j, c] for j < k, t < To. Each
// output row is k C contiguous floats of x, so the forward is one copy per
// row; the backward adds each row back (rows overlap when k > s), batch items
// split over the pool (each written by one thread, in a fixed order).
// unfold1d(buf, op, xOff, colsOff, B, L, C, k, s, To): op 0 x -> cols, op 1 dcols -> dx.
Napi::Value Unfold1d(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 10) throw Napi::TypeError::New(env, "unfold1d: 10 arguments expected");
  const int op = info[1].As<Napi::Number>().Int32Value();
  const int64_t B = info[4].As<Napi::Number>().Int64Value(), L = info[5].As<Napi::Number>().Int64Value(), C = info[6].As<Napi::Number>().Int64Value(),
                k = info[7].As<Napi::Number>().Int64Value(), st = info[8].As<Napi::Number>().Int64Value(), To = info[9].As<Napi::Number>().Int64Value();
  if (B < 1 || L < 1 || C < 1 || k < 1 || st < 1 || To < 1 || (To - 1) * st + k > L || op < 0 || op > 1)
    throw Napi::RangeError::New(env, "unfold1d: bad op or geometry (need (To - 1) s + k <= L)");
  float* x = heapF32(env, info[0], info[2].As<Napi::Number>().Int64Value(), B * L * C);
  float* cols = heapF32(env, info[0], info[3].As<Napi::Number>().Int64Value(), B * To * k * C);
  const int64_t row = k * C;
  auto body = [&](int64_t b) {
    float* xb = x + b * L * C;
    float* cb = cols + b * To * row;
    if (op == 0) {
      for (int64_t t = 0; t < To; ++t) std::memcpy(cb + t * row, xb + t * st * C, row * sizeof(float));
    } else {
      std::fill(xb, xb + L * C, 0.0f);
      for (int64_t t = 0; t < To; ++t) {
        float* d = xb + t * st * C;
        const float* src = cb + t * row;
        for (int64_t q = 0; q < row; ++q) d[q] += src[q];
      }
    }
  };
  const int P_ = g_pool.size();
  if (P_ > 1 && B > 1 && B * To * row >= (1 << 16)) g_pool.run(static_cast<int>(B), [&](int b) { body(b); });
  else
    for (int64_t b = 0; b < B; ++b) body(b);
  return env.Undefined();
}


// ---------------------------------------------------------------------------
// Row gather and its adjoint (embedding lookups, lib/models/embedding.ts):
// rows(buf, op, xOff, idxOff, yOff, n, d, V)
//   op 0: y[i, :] = x[idx[i], :] for i < n (x has V rows of d floats);
//   op 1: y[v, :] = sum of x[i, :] over i with idx[i] = v (y has V rows; a
//         scatter-add in index order, so the result does not depend on threads).
// Indices are int32 in the same heap; one outside [0, V) throws.
Napi::Value Rows(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 8) throw Napi::TypeError::New(env, "rows: 8 arguments expected");
  const int op = info[1].As<Napi::Number>().Int32Value();
  const int64_t n = info[5].As<Napi::Number>().Int64Value(), d = info[6].As<Napi::Number>().Int64Value(), V = info[7].As<Napi::Number>().Int64Value();
  if (n < 0 || d < 1 || V < 1 || op < 0 || op > 1) throw Napi::RangeError::New(env, "rows: bad op or size");
  const int32_t* idx = reinterpret_cast<const int32_t*>(heapF32(env, info[0], info[3].As<Napi::Number>().Int64Value(), n));
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || idx[i] >= V) throw Napi::RangeError::New(env, "rows: index " + std::to_string(idx[i]) + " is not in [0, " + std::to_string(V - 1) + "]");
  const float* x = heapF32(env, info[0], info[2].As<Napi::Number>().Int64Value(), (op == 0 ? V : n) * d);
  float* y = heapF32(env, info[0], info[4].As<Napi::Number>().Int64Value(), (op == 0 ? n : V) * d);
  if (op == 0) {
    for (int64_t i = 0; i < n; ++i) std::memcpy(y + i * d, x + static_cast<int64_t>(idx[i]) * d, d * sizeof(float));
  } else {
    std::fill(y, y + V * d, 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      float* dst = y + static_cast<int64_t>(idx[i]) * d;
      const float* src = x + i * d;
      for (int64_t q = 0; q < d; ++q) dst[q] += src[q];
    }
  }
  return env.Undefined();
}


// ---------------------------------------------------------------------------
// Exact (erf) GELU and its gradient in one pass each (lib/ops/activations.ts
// writes them as ~6 tfjs kernels forward and ~10 backward, erf and exp
// recomputed): the same float32 formulas, vectorised.
//   y  = (x * 0.5) * (1 + erf(x / sqrt 2))
//   dx = dy * (0.5 * (1 + erf(x / sqrt 2)) + x * exp(x^2 * -0.5) / sqrt(2 pi))
DYT_CLONES void geluFwdSpan(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = (v * 0.5f) * (1.0f + erfF(v * 0.70710678118654752f));
  }
}
// The backward's erf(v / sqrt 2) needs exp(-a^2) with a = |v| / sqrt 2, and
// the normal pdf needs exp(-v^2 / 2): the same number, so one exp serves both
// (half the exps of writing each out; the pdf's argument now rounds as
// a * a, within an ulp or two of (v * v) * -0.5).
DYT_CLONES void geluBwdSpan(const float* __restrict dy, const float* __restrict x, float* __restrict dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float a = __builtin_fabsf(v * 0.70710678118654752f);
    const float e = expF(-a * a);
    const float erfv = __builtin_copysignf(1.0f - erfPoly(a) * e, v);
    const float cdf = 0.5f * (1.0f + erfv);
    const float pdf = e * 0.398942280401432678f;
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

// gelu(buf, op, xOff, dyOff, yOff, n): op 0 y = gelu(x) (dyOff unused); op 1 y = dx from dy and x.
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 6) throw Napi::TypeError::New(env, "gelu: 6 arguments expected");
  const int op = info[1].As<Napi::Number>().Int32Value();
  const int64_t n = info[5].As<Napi::Number>().Int64Value();
  if (n < 0 || op < 0 || op > 1) throw Napi::RangeError::New(env, "gelu: bad op or size");
  if (n == 0) return env.Undefined();
  const float* x = heapF32(env, info[0], info[2].As<Napi::Number>().Int64Value(), n);
  const float* dy = op == 1 ? heapF32(env, info[0], info[3].As<Napi::Number>().Int64Value(), n) : nullptr;
  float* y = heapF32(env, info[0], info[4].As<Napi::Number>().Int64Value(), n);
  overSpans(n, 1 << 15, [&](int64_t lo, int64_t hi) {
    if (op == 0) geluFwdSpan(x + lo, y + lo, hi - lo);
    else geluBwdSpan(dy + lo, x + lo, y + lo, hi - lo);
  });
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// adaLN's per-sample modulation (lib/ops/modulate.ts, DiT), x [B, T, D] with
// [B, D] coefficients broadcast over the T tokens, the same float32 formulas
// as the tfjs ops they replace (each product rounded, then the add):
//   op 0 modulate:      y = x * (1 + scale) + shift
//   op 1 its gradient:  dx = dy * (1 + scale), dscale = sum_t dy * x, dshift = sum_t dy
//   op 2 gated add:     y = x + gate * u
//   op 3 its gradient:  du = dy * gate, dgate = sum_t dy * u   (dx = dy: no kernel)
// The token sums accumulate in double in token order, as the cpu backend's
// Sum does. In tfjs each is 3-8 kernels a direction with broadcasts and
// reductions (~130 calls of a DiT step). Samples are split over the pool.
//
// modulate(buf, op, aOff, bOff, cOff, dOff, eOff, fOff, B, T, D):
//   op 0: a x, b scale, c shift, d y        op 1: a dy, b x, c scale, d dx, e dscale, f dshift
//   op 2: a x, b gate, c u, d y             op 3: a dy, b gate, c u, d du, e dgate
DYT_CLONES void modulateRow(int op, const float* __restrict a, const float* __restrict b, const float* __restrict c, const float* __restrict m,
                            float* __restrict d, double* __restrict acc1, double* __restrict acc2, int64_t D) {
  switch (op) {
    case 0:
      for (int64_t k = 0; k < D; ++k) d[k] = a[k] * m[k] + c[k];
      break;
    case 1:
      for (int64_t k = 0; k < D; ++k) {
        const float g = a[k];
        d[k] = g * m[k];
        acc1[k] += static_cast<double>(g * b[k]);
        acc2[k] += static_cast<double>(g);
      }
      break;
    case 2:
      for (int64_t k = 0; k < D; ++k) d[k] = a[k] + m[k] * c[k];
      break;
    default:
      for (int64_t k = 0; k < D; ++k) {
        const float g = a[k];
        d[k] = g * m[k];
        acc1[k] += static_cast<double>(g * c[k]);
      }
      break;
  }
}

Napi::Value Modulate(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 11) throw Napi::TypeError::New(env, "modulate: 11 arguments expected");
  const int op = info[1].As<Napi::Number>().Int32Value();
  const int64_t B = info[8].As<Napi::Number>().Int64Value(), T = info[9].As<Napi::Number>().Int64Value(), D = info[10].As<Napi::Number>().Int64Value();
  if (op < 0 || op > 3 || B < 0 || T < 0 || D < 1) throw Napi::RangeError::New(env, "modulate: bad op or size");
  if (B == 0) return env.Undefined();
  const int64_t nx = B * T * D, nc = B * D;
  // Operand b is x (op 1, full size) or the [B, D] coefficient; c is full size except for op 1's scale.
  const float* a = heapF32(env, info[0], info[2].As<Napi::Number>().Int64Value(), nx);
  const float* bb = heapF32(env, info[0], info[3].As<Napi::Number>().Int64Value(), op == 1 ? nx : nc);
  const float* cc = heapF32(env, info[0], info[4].As<Napi::Number>().Int64Value(), op == 0 || op == 1 ? nc : nx);
  float* dd = heapF32(env, info[0], info[5].As<Napi::Number>().Int64Value(), nx);
  float* e = op == 1 || op == 3 ? heapF32(env, info[0], info[6].As<Napi::Number>().Int64Value(), nc) : nullptr;
  float* f = op == 1 ? heapF32(env, info[0], info[7].As<Napi::Number>().Int64Value(), nc) : nullptr;
  // The per-sample coefficient: 1 + scale (ops 0, 1, rounded once, as tf.add(scale, 1)) or the gate.
  const float* coef = op == 1 ? cc : bb;
  const bool plusOne = op <= 1;
  auto body = [&](int64_t b0, int64_t b1) {
    std::vector<float> m(D);
    std::vector<double> acc(2 * D);
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t k = 0; k < D; ++k) m[k] = plusOne ? coef[b * D + k] + 1.0f : coef[b * D + k];
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t t = 0; t < T; ++t) {
        const int64_t row = (b * T + t) * D;
        switch (op) {
          case 0: modulateRow(0, a + row, nullptr, cc + b * D, m.data(), dd + row, nullptr, nullptr, D); break;
          case 1: modulateRow(1, a + row, bb + row, nullptr, m.data(), dd + row, acc.data(), acc.data() + D, D); break;
          case 2: modulateRow(2, a + row, nullptr, cc + row, m.data(), dd + row, nullptr, nullptr, D); break;
          default: modulateRow(3, a + row, nullptr, cc + row, m.data(), dd + row, acc.data(), nullptr, D); break;
        }
      }
      if (e)
        for (int64_t k = 0; k < D; ++k) e[b * D + k] = static_cast<float>(acc[k]);
      if (f)
        for (int64_t k = 0; k < D; ++k) f[b * D + k] = static_cast<float>(acc[D + k]);
    }
  };
  overBands(B, nx >= (1 << 15), body);
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// Measured peak (the bench's %peak): FP32 FMA throughput of the whole
// machine, and its clock. The nominal estimate (cores x lanes x FMA units x 2
// x GHz from /proc/cpuinfo) misses boost clocks and guesses the FMA pipes.
//
// Each thread runs kPeakChains independent chains acc = acc * m + a (m = 1 -
// 2^-10, a = 2^-10: every chain converges to 1, so no overflow and no
// denormals). FMA latency is 4-5 cycles at up to 2 issues per cycle, so 12
// chains keep both pipes of any current core busy; more would spill registers
// on SSE2 (16 xmm).
constexpr int kPeakChains = 12;

#if defined(__x86_64__) && defined(__GNUC__)
#if !defined(DYT_MAX_X86_64_V3)
__attribute__((target("avx512f"))) float fmaChainsAvx512(int64_t iters) {
  const __m512 m = _mm512_set1_ps(0.9990234375f), a = _mm512_set1_ps(0.0009765625f);
  __m512 acc[kPeakChains];
  for (int j = 0; j < kPeakChains; ++j) acc[j] = _mm512_set1_ps(0.5f + j);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kPeakChains; ++j) acc[j] = _mm512_fmadd_ps(acc[j], m, a);
  }
  for (int j = 1; j < kPeakChains; ++j) acc[0] = _mm512_add_ps(acc[0], acc[j]);
  // A store, not _mm512_reduce_add_ps: GCC 12 warns on that intrinsic's own internals.
  alignas(64) float t[16];
  _mm512_store_ps(t, acc[0]);
  float r = 0;
  for (float v : t) r += v;
  return r;
}
#endif

__attribute__((target("avx2,fma"))) float fmaChainsAvx2(int64_t iters) {
  const __m256 m = _mm256_set1_ps(0.9990234375f), a = _mm256_set1_ps(0.0009765625f);
  __m256 acc[kPeakChains];
  for (int j = 0; j < kPeakChains; ++j) acc[j] = _mm256_set1_ps(0.5f + j);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kPeakChains; ++j) acc[j] = _mm256_fmadd_ps(acc[j], m, a);
  }
  for (int j = 1; j < kPeakChains; ++j) acc[0] = _mm256_add_ps(acc[0], acc[j]);
  alignas(32) float t[8];
  _mm256_store_ps(t, acc[0]);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

// Baseline: 4-lane vectors (SSE2 on x86-64, NEON elsewhere), a multiply and
// an add per element (no FMA in the baseline ISA; -ffp-contract=off keeps them
// apart): still 2 FLOPs per element per iteration.
float fmaChainsBaseline(int64_t iters) {
  typedef float v4 __attribute__((vector_size(16)));
  const v4 m = {0.9990234375f, 0.9990234375f, 0.9990234375f, 0.9990234375f};
  const v4 a = {0.0009765625f, 0.0009765625f, 0.0009765625f, 0.0009765625f};
  v4 acc[kPeakChains];
  for (int j = 0; j < kPeakChains; ++j) acc[j] = m * (0.5f + j);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kPeakChains; ++j) acc[j] = acc[j] * m + a;
  }
  for (int j = 1; j < kPeakChains; ++j) acc[0] += acc[j];
  return acc[0][0] + acc[0][1] + acc[0][2] + acc[0][3];
}

#if defined(__x86_64__) && defined(__GNUC__)
// Clock: a dependent chain of 128 register adds per iteration, 1 cycle each
// on every x86-64 core (register, not immediate, operands: recent Intel cores
// fold immediate adds at rename); the loop counter runs beside it. Checked
// against a chain of imul (3 cycles on current Intel and AMD cores).
uint64_t addChain(int64_t iters) {
  uint64_t x = 0;
  const uint64_t one = 1;
  for (int64_t i = 0; i < iters; ++i) asm volatile(".rept 128\n\taddq %1, %0\n\t.endr" : "+r"(x) : "r"(one));
  return x;
}
uint64_t imulChain(int64_t iters) {
  uint64_t x = 1;
  const uint64_t one = 1;
  for (int64_t i = 0; i < iters; ++i) asm volatile(".rept 128\n\timulq %1, %0\n\t.endr" : "+r"(x) : "r"(one));
  return x;
}
#endif

double threadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct PeakSample {
  double flops = 0, cpuS = 0, wallS = 0, ghzAdd = 0, ghzImul = 0;
  float sink = 0;
};

// Run f(chunk) until `seconds` of wall time pass; returns the iterations and
// the thread's CPU and wall seconds. CPU time makes the rate robust to other
// processes taking the core for a while (the thread is not charged then).
template <class F>
int64_t timedRun(F&& f, int64_t chunk, double seconds, double& cpuS, double& wallS) {
  f(chunk);  // warm-up: wakes the vector unit and faults in the code
  const double w0 = wallSeconds(), c0 = threadCpuSeconds();
  int64_t n = 0;
  do {
    f(chunk);
    n += chunk;
  } while (wallSeconds() - w0 < seconds);
  cpuS = threadCpuSeconds() - c0;
  wallS = wallSeconds() - w0;
  return n;
}

// fmaPeak([ms = 200, threads = hardware threads]): every thread runs the FMA
// loop of the widest ISA this build and CPU allow for ms, then the clock
// chains for ms / 4 each, all threads at once (the clock under full load).
// gflops sums each thread's FLOPs / its CPU seconds (a thread per core, as on
// an idle machine); gflopsWall the same over wall seconds (lower when other
// processes shared the cores). ghz: the add chain's clock when the imul chain
// agrees within 10 %, else null (both are returned).
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const double ms = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 200.0;
  int threads = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (!(ms > 0 && ms <= 10000)) throw Napi::RangeError::New(env, "fmaPeak: ms must be in (0, 10000]");
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const int level = simdLevel();
  float (*kernel)(int64_t) = fmaChainsBaseline;
  int lanes = 4;
#if defined(__x86_64__) && defined(__GNUC__)
#if !defined(DYT_MAX_X86_64_V3)
  if (level >= 4) kernel = fmaChainsAvx512, lanes = 16;
#endif
  if (level == 3) kernel = fmaChainsAvx2, lanes = 8;
#endif
  const double seconds = ms / 1000.0;
  std::vector<PeakSample> samples(threads);
  std::atomic<int> ready{0};
  auto body = [&](int t) {
    PeakSample& s = samples[t];
    // Start together so that every core is loaded for the whole window.
    ready.fetch_add(1);
    while (ready.load() < threads) std::this_thread::yield();
    const int64_t n = timedRun([&](int64_t k) { s.sink += kernel(k); }, 4096, seconds, s.cpuS, s.wallS);
    s.flops = static_cast<double>(n) * kPeakChains * lanes * 2.0;
#if defined(__x86_64__) && defined(__GNUC__)
    double c = 0, w = 0;
    const int64_t na = timedRun([&](int64_t k) { s.sink += static_cast<float>(addChain(k)); }, 256, seconds / 4, c, w);
    s.ghzAdd = na * 128.0 / c / 1e9;
    const int64_t ni = timedRun([&](int64_t k) { s.sink += static_cast<float>(imulChain(k)); }, 128, seconds / 4, c, w);
    s.ghzImul = ni * 128.0 * 3.0 / c / 1e9;
#endif
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(body, t);
  body(0);
  for (auto& th : pool) th.join();

  double gflops = 0, gflopsWall = 0, ghzAdd = 0, ghzImul = 0;
  float sink = 0;
  for (const auto& s : samples) {
    gflops += s.flops / s.cpuS / 1e9;
    gflopsWall += s.flops / s.wallS / 1e9;
    ghzAdd += s.ghzAdd / threads;
    ghzImul += s.ghzImul / threads;
    sink += s.sink;
  }
  auto o = Napi::Object::New(env);
  o.Set("gflops", gflops);
  o.Set("gflopsWall", gflopsWall);
  o.Set("isa", simdName(level));
  o.Set("lanes", lanes);
  o.Set("threads", threads);
  o.Set("ms", ms);
  const bool clock = ghzAdd > 0 && std::fabs(ghzImul / ghzAdd - 1.0) <= 0.1;
  o.Set("ghz", clock ? Napi::Value(Napi::Number::New(env, ghzAdd)) : env.Null());
  o.Set("ghzAdd", ghzAdd > 0 ? Napi::Value(Napi::Number::New(env, ghzAdd)) : env.Null());
  o.Set("ghzImul", ghzImul > 0 ? Napi::Value(Napi::Number::New(env, ghzImul)) : env.Null());
  // Every chain converges to 1: a NaN here means the loop was miscompiled.
  o.Set("checksum", sink);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // OpenBLAS reads OPENBLAS_NUM_THREADS (default: the core count) at load;
  // that becomes the pool size, and OpenBLAS itself goes single-threaded.
  g_pool.resize(std::max(1, openblas_get_num_threads()));
  openblas_set_num_threads(1);
  // Bump when the exported functions change: lib/engine/native.ts refuses a
  // stale build (one left behind when a rebuild failed) instead of crashing.
  exports.Set("abi", Napi::Number::New(env, 14));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("sum", Napi::Function::New(env, SumReduce));
  exports.Set("copyRows", Napi::Function::New(env, CopyRows));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("normFwd", Napi::Function::New(env, NormFwd));
  exports.Set("normBwd", Napi::Function::New(env, NormBwd));
  exports.Set("dytFwd", Napi::Function::New(env, DytFwd));
  exports.Set("dytBwd", Napi::Function::New(env, DytBwd));
  exports.Set("attnFwd", Napi::Function::New(env, AttnFwd));
  exports.Set("attnBwd", Napi::Function::New(env, AttnBwd));
  exports.Set("depthwise", Napi::Function::New(env, Depthwise));
  exports.Set("fftConvFwd", Napi::Function::New(env, FftConvFwd));
  exports.Set("fftConvBwd", Napi::Function::New(env, FftConvBwd));
  exports.Set("unfold1d", Napi::Function::New(env, Unfold1d));
  exports.Set("rows", Napi::Function::New(env, Rows));
  exports.Set("gelu", Napi::Function::New(env, Gelu));
  exports.Set("modulate", Napi::Function::New(env, Modulate));
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak));
  return exports;
}

}  // namespace

NODE_API_MODULE(dyt_native, Init)
