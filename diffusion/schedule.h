// Noise schedules of Gaussian diffusion (Ho et al. 2020; Nichol & Dhariwal 2021), timestep
// respacing (guided-diffusion's space_timesteps / SpacedDiffusion) and RePaint's resampling
// schedule (Lugmayr et al. 2022, andreas128/RePaint guided_diffusion/scheduler.py
// get_schedule_jump). Torch-free: every coefficient is a float64 vector with one value per step,
// the way the reference code keeps them in numpy before casting to the sample's dtype.
//
// Index convention (guided-diffusion's): step i in [0, T) maps x_i -> x_{i-1}; x at step i has
// noise level alphas_cumprod[i]; step 0 produces the data sample.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repbench::diffusion {

enum class BetaSchedule { kLinear, kCosine };

const char* to_string(BetaSchedule schedule);
// "linear" or "cosine"; throws Error prefixed with `where` otherwise.
BetaSchedule parse_beta_schedule(const std::string& name, const std::string& where);

// betas [timesteps]:
//   linear  linspace(beta_start, beta_end, timesteps) in float64, as written (no 1000 / T scaling:
//           a model's metadata states its actual range);
//   cosine  betas_for_alpha_bar with alpha_bar(s) = cos((s + 0.008) / 1.008 * pi / 2)^2, each beta
//           capped at 0.999 (beta_start and beta_end unused).
// Throws Error when timesteps < 2 or a linear beta is outside (0, 1].
std::vector<double> make_betas(BetaSchedule schedule, int64_t timesteps, double beta_start,
                               double beta_end);

// guided-diffusion's space_timesteps(num_timesteps, section_counts): the steps of the original
// process that a respaced one keeps, sorted ascending. `section_counts` is "N" or "N1,N2,..."
// (the original steps are cut into equal sections and section k keeps Nk steps, evenly strided,
// rounding half to even like Python's round()) or "ddimN" (the fixed stride of DDIM that gives N
// steps). "" keeps every step. Throws Error when a section cannot hold its count (unlike the
// RePaint fork, a single count above num_timesteps is an error, not a linspace).
std::vector<int64_t> space_timesteps(int64_t num_timesteps, const std::string& section_counts);

// The coefficients of a (possibly respaced) diffusion, float64, each vector of size() values.
struct DiffusionSchedule {
  std::vector<int64_t> timestep_map;  // the model's timestep for each step (the kept steps)
  std::vector<double> betas;
  std::vector<double> alphas_cumprod;               // abar_i = prod_{j <= i} (1 - beta_j)
  std::vector<double> alphas_cumprod_prev;          // abar_{i-1}, 1 at i = 0
  std::vector<double> sqrt_recip_alphas_cumprod;    // sqrt(1 / abar_i)
  std::vector<double> sqrt_recipm1_alphas_cumprod;  // sqrt(1 / abar_i - 1)
  std::vector<double> posterior_variance;           // beta_i (1 - abar_{i-1}) / (1 - abar_i)
  // log of posterior_variance with step 0's (which is 0) replaced by step 1's
  std::vector<double> posterior_log_variance_clipped;
  std::vector<double> posterior_mean_coef1;  // beta_i sqrt(abar_{i-1}) / (1 - abar_i)
  std::vector<double> posterior_mean_coef2;  // (1 - abar_{i-1}) sqrt(1 - beta_i) / (1 - abar_i)

  int64_t size() const { return static_cast<int64_t>(betas.size()); }

  // The schedule of `betas` (at least 2, each in (0, 1]); timestep_map is the identity.
  static DiffusionSchedule from_betas(std::vector<double> betas);

  // SpacedDiffusion: keeps the steps `use_timesteps` (indices into this schedule, sorted, unique)
  // with new betas 1 - abar_k / abar_prev_kept, so that the respaced alphas_cumprod equal this
  // schedule's at the kept steps; timestep_map becomes this one's at those steps.
  DiffusionSchedule respaced(const std::vector<int64_t>& use_timesteps) const;
};

// RePaint's resampling parameters (schedule_jump_params). Defaults: the ImageNet configuration
// (confs/test_inet256_*.yml): t_T 250, n_sample 1, jump_length 10, jump_n_sample 10.
struct JumpParams {
  int64_t t_T = 250;           // steps of the (respaced) schedule the walk starts from
  int64_t n_sample = 1;        // 1-step back-and-forth repeats at every step (1 = none)
  int64_t jump_length = 10;    // j: steps walked back up (re-noised) at each jump
  int64_t jump_n_sample = 10;  // r: times each jump point is traversed (r - 1 jumps per point)

  // Throws Error (prefixed with `where`) when a value is out of range.
  void Check(const std::string& where = "RePaint schedule") const;
};

// get_schedule_jump(t_T, n_sample, jump_length, jump_n_sample) with start_resampling and the
// second/third-level jumps left at their no-op defaults: the sequence of times the sampler
// visits, starting at t_T - 1 and ending with -1; consecutive times differ by exactly 1. A step
// from t to t - 1 is a reverse (denoising) step at t; from t to t + 1 re-noises to level t + 1.
// The ImageNet configuration gives 4571 times: 2410 reverse steps and 2160 re-noising steps.
std::vector<int64_t> repaint_times(const JumpParams& params);

}  // namespace repbench::diffusion
