// Read-only file mappings for content comparison, with a SIGBUS guard.
#include "diff/mapped_file.hpp"

#include "util/error.hpp"

#include <csetjmp>
#include <csignal>
#include <cstring>
#include <sys/mman.h>
#include <sys/stat.h>

namespace reproimg::diff {

namespace {

// The jump of the guarded call running on this thread, if any.
thread_local sigjmp_buf* t_bus_jump = nullptr;

void on_sigbus(int sig)
{
  if (t_bus_jump) {
    siglongjmp(*t_bus_jump, 1);
  }
  // Not ours: what SIGBUS would have done without this handler.
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Installed with every mapping (not once): whoever replaced the handler meanwhile (a test
// framework does, per test) is replaced again before the mapping is read.
void install_handler()
{
  struct sigaction sa {};
  sa.sa_handler = on_sigbus;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_NODEFER;
  ::sigaction(SIGBUS, &sa, nullptr);
}

} // namespace

MappedFile::MappedFile(int fd, std::string name) : m_name(std::move(name))
{
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    return;
  }
  void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    return;
  }
  ::madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
  install_handler();
  m_data = static_cast<const unsigned char*>(p);
  m_size = static_cast<std::uint64_t>(st.st_size);
}

MappedFile::~MappedFile()
{
  if (m_data) {
    ::munmap(const_cast<unsigned char*>(m_data), static_cast<size_t>(m_size));
  }
}

const unsigned char* MappedFile::at(std::uint64_t offset, std::uint64_t length) const
{
  if (!m_data || offset > m_size || length > m_size - offset) {
    return nullptr;
  }
  return m_data + offset;
}

void run_guarded(void (*call)(void*), void* context, const std::string& name)
{
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) != 0) {
    t_bus_jump = nullptr;
    throw util::Error(util::Location{name, std::nullopt, std::nullopt},
                      "file changed while being compared (shorter than when it was read)");
  }
  t_bus_jump = &jump;
  try {
    call(context);
  } catch (...) {
    t_bus_jump = nullptr;
    throw;
  }
  t_bus_jump = nullptr;
}

std::optional<std::uint64_t> mapped_mismatch(const unsigned char* a, const unsigned char* b, std::uint64_t n,
                                             const std::string& names)
{
  struct Context {
    const unsigned char* a;
    const unsigned char* b;
    std::uint64_t n;
    std::optional<std::uint64_t> at;
  } context{a, b, n, std::nullopt};
  run_guarded(
      [](void* p) {
        auto* c = static_cast<Context*>(p);
        if (std::memcmp(c->a, c->b, static_cast<size_t>(c->n)) == 0) {
          return;
        }
        std::uint64_t i = 0;
        while (c->a[i] == c->b[i]) {
          ++i;
        }
        c->at = i;
      },
      &context, names);
  return context.at;
}

} // namespace reproimg::diff
