// What every benchmark computes the same way.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace realmkit::bench {

// The p-quantile (0..1) of the samples, by nearest rank; reorders them. 0 when there are none.
inline double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k),
                   samples.end());
  return samples[k];
}

}  // namespace realmkit::bench
