// Two independent jobs on two cores, and how many cores this process may run on.
#pragma once

#include <exception>
#include <sched.h>
#include <thread>

namespace reproimg::util {

// Runs a on this thread and b on another; waits for both, then rethrows the first failure (a's first).
template <typename A, typename B>
void run_both(A&& a, B&& b)
{
  std::exception_ptr error_b;
  std::thread worker([&] {
    try {
      b();
    } catch (...) {
      error_b = std::current_exception();
    }
  });
  std::exception_ptr error_a;
  try {
    a();
  } catch (...) {
    error_a = std::current_exception();
  }
  worker.join();
  if (error_a) std::rethrow_exception(error_a);
  if (error_b) std::rethrow_exception(error_b);
}

// The cores this process may run on (its CPU affinity mask; else hardware_concurrency); at least 1.
inline unsigned available_cores()
{
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) {
      return static_cast<unsigned>(n);
    }
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

} // namespace reproimg::util
