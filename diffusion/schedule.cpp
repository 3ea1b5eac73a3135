#include "diffusion/schedule.h"

#include <cfenv>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"

namespace repbench::diffusion {

const char* to_string(BetaSchedule schedule) {
  return schedule == BetaSchedule::kCosine ? "cosine" : "linear";
}

BetaSchedule parse_beta_schedule(const std::string& name, const std::string& where) {
  if (name == "linear") return BetaSchedule::kLinear;
  if (name == "cosine") return BetaSchedule::kCosine;
  fail("{}: beta_schedule \"{}\" is not one of linear, cosine", where, name);
}

std::vector<double> make_betas(BetaSchedule schedule, int64_t timesteps, double beta_start,
                               double beta_end) {
  if (timesteps < 2) fail("a diffusion needs at least 2 timesteps; got {}", timesteps);
  std::vector<double> betas(static_cast<size_t>(timesteps));
  if (schedule == BetaSchedule::kLinear) {
    if (!(beta_start > 0 && beta_start <= 1 && beta_end > 0 && beta_end <= 1))
      fail("linear betas must lie in (0, 1]; got beta_start {} and beta_end {}", beta_start,
           beta_end);
    // numpy.linspace: start + i * step, the last value set to `stop` exactly.
    const double step = (beta_end - beta_start) / static_cast<double>(timesteps - 1);
    for (int64_t i = 0; i < timesteps; ++i) betas[i] = beta_start + static_cast<double>(i) * step;
    betas.back() = beta_end;
  } else {
    const double pi = std::acos(-1.0);
    auto alpha_bar = [pi](double s) {
      const double c = std::cos((s + 0.008) / 1.008 * pi / 2);
      return c * c;
    };
    const double n = static_cast<double>(timesteps);
    for (int64_t i = 0; i < timesteps; ++i) {
      const double t1 = static_cast<double>(i) / n, t2 = static_cast<double>(i + 1) / n;
      betas[i] = std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999);
    }
  }
  return betas;
}

namespace {

int64_t parse_count(const std::string& text, const std::string& whole) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < 1)
    fail("timestep respacing \"{}\": \"{}\" is not a positive step count", whole, text);
  return v;
}

// Python's round(): half to even (the default floating-point rounding mode).
int64_t round_half_even(double x) {
  const int saved = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const double r = std::nearbyint(x);
  std::fesetround(saved);
  return static_cast<int64_t>(r);
}

}  // namespace

std::vector<int64_t> space_timesteps(int64_t num_timesteps, const std::string& section_counts) {
  if (num_timesteps < 1) fail("cannot respace a diffusion of {} steps", num_timesteps);
  std::vector<int64_t> all;
  if (section_counts.empty()) {
    for (int64_t i = 0; i < num_timesteps; ++i) all.push_back(i);
    return all;
  }
  if (section_counts.rfind("ddim", 0) == 0) {
    const int64_t desired = parse_count(section_counts.substr(4), section_counts);
    for (int64_t stride = 1; stride < num_timesteps; ++stride) {
      if ((num_timesteps + stride - 1) / stride == desired) {
        for (int64_t i = 0; i < num_timesteps; i += stride) all.push_back(i);
        return all;
      }
    }
    fail("timestep respacing \"{}\": no fixed stride gives {} of {} steps", section_counts, desired,
         num_timesteps);
  }
  std::vector<int64_t> counts;
  size_t start = 0;
  while (true) {
    const size_t comma = section_counts.find(',', start);
    counts.push_back(parse_count(section_counts.substr(start, comma - start), section_counts));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const int64_t sections = static_cast<int64_t>(counts.size());
  const int64_t size_per = num_timesteps / sections, extra = num_timesteps % sections;
  int64_t start_idx = 0;
  std::set<int64_t> steps;
  for (int64_t i = 0; i < sections; ++i) {
    const int64_t size = size_per + (i < extra ? 1 : 0);
    const int64_t count = counts[i];
    if (size < count)
      fail(
          "timestep respacing \"{}\": cannot divide a section of {} steps into {} (the model has "
          "{} "
          "timesteps)",
          section_counts, size, count, num_timesteps);
    // Accumulated, not multiplied, as the reference does: the sum's rounding decides ties.
    const double frac_stride =
        count <= 1 ? 1.0 : static_cast<double>(size - 1) / static_cast<double>(count - 1);
    double cur = 0.0;
    for (int64_t k = 0; k < count; ++k) {
      steps.insert(start_idx + round_half_even(cur));
      cur += frac_stride;
    }
    start_idx += size;
  }
  return {steps.begin(), steps.end()};
}

DiffusionSchedule DiffusionSchedule::from_betas(std::vector<double> betas) {
  const size_t n = betas.size();
  if (n < 2) fail("a diffusion needs at least 2 steps; got {}", n);
  for (size_t i = 0; i < n; ++i)
    if (!(betas[i] > 0 && betas[i] <= 1)) fail("beta[{}] = {} is outside (0, 1]", i, betas[i]);
  DiffusionSchedule s;
  s.timestep_map.resize(n);
  for (size_t i = 0; i < n; ++i) s.timestep_map[i] = static_cast<int64_t>(i);
  s.alphas_cumprod.resize(n);
  double prod = 1.0;
  for (size_t i = 0; i < n; ++i) {
    prod *= 1.0 - betas[i];
    s.alphas_cumprod[i] = prod;
  }
  s.alphas_cumprod_prev.resize(n);
  s.alphas_cumprod_prev[0] = 1.0;
  for (size_t i = 1; i < n; ++i) s.alphas_cumprod_prev[i] = s.alphas_cumprod[i - 1];
  s.sqrt_recip_alphas_cumprod.resize(n);
  s.sqrt_recipm1_alphas_cumprod.resize(n);
  s.posterior_variance.resize(n);
  s.posterior_log_variance_clipped.resize(n);
  s.posterior_mean_coef1.resize(n);
  s.posterior_mean_coef2.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double ac = s.alphas_cumprod[i], acp = s.alphas_cumprod_prev[i], b = betas[i];
    s.sqrt_recip_alphas_cumprod[i] = std::sqrt(1.0 / ac);
    s.sqrt_recipm1_alphas_cumprod[i] = std::sqrt(1.0 / ac - 1);
    s.posterior_variance[i] = b * (1.0 - acp) / (1.0 - ac);
    s.posterior_mean_coef1[i] = b * std::sqrt(acp) / (1.0 - ac);
    s.posterior_mean_coef2[i] = (1.0 - acp) * std::sqrt(1.0 - b) / (1.0 - ac);
  }
  // The posterior variance is 0 at step 0; its log takes step 1's value there.
  s.posterior_log_variance_clipped[0] = std::log(s.posterior_variance[1]);
  for (size_t i = 1; i < n; ++i)
    s.posterior_log_variance_clipped[i] = std::log(s.posterior_variance[i]);
  s.betas = std::move(betas);
  return s;
}

DiffusionSchedule DiffusionSchedule::respaced(const std::vector<int64_t>& use_timesteps) const {
  std::vector<double> new_betas;
  std::vector<int64_t> map;
  double last = 1.0;
  int64_t prev = -1;
  for (const int64_t k : use_timesteps) {
    if (k <= prev || k >= size())
      fail("respacing: kept steps must be sorted, unique and below {}; got {} after {}", size(), k,
           prev);
    prev = k;
    new_betas.push_back(1.0 - alphas_cumprod[k] / last);
    last = alphas_cumprod[k];
    map.push_back(timestep_map[k]);
  }
  DiffusionSchedule s = from_betas(std::move(new_betas));
  s.timestep_map = std::move(map);
  return s;
}

void JumpParams::Check(const std::string& where) const {
  if (t_T < 2) fail("{}: t_T must be at least 2; got {}", where, t_T);
  if (n_sample < 1) fail("{}: n_sample must be at least 1; got {}", where, n_sample);
  if (jump_length < 1) fail("{}: jump_length must be at least 1; got {}", where, jump_length);
  if (jump_n_sample < 1) fail("{}: jump_n_sample must be at least 1; got {}", where, jump_n_sample);
  if (jump_length >= t_T) fail("{}: jump_length {} must be below t_T {}", where, jump_length, t_T);
}

std::vector<int64_t> repaint_times(const JumpParams& p) {
  p.Check("RePaint schedule");
  // Jump points 0, j, 2j, ... below t_T - j, each with r - 1 jumps left.
  std::map<int64_t, int64_t> jumps;
  for (int64_t j = 0; j < p.t_T - p.jump_length; j += p.jump_length) jumps[j] = p.jump_n_sample - 1;
  std::vector<int64_t> ts;
  int64_t t = p.t_T;
  while (t >= 1) {
    ts.push_back(--t);
    if (t + 1 < p.t_T - 1) {
      for (int64_t k = 0; k + 1 < p.n_sample; ++k) {
        ts.push_back(++t);
        if (t >= 0) ts.push_back(--t);
      }
    }
    auto it = jumps.find(t);
    if (it != jumps.end() && it->second > 0) {
      --it->second;
      for (int64_t k = 0; k < p.jump_length; ++k) ts.push_back(++t);
    }
  }
  ts.push_back(-1);
  return ts;
}

}  // namespace repbench::diffusion
