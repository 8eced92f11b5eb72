// Two independent jobs on two cores.
#pragma once

#include <exception>
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

} // namespace reproimg::util
