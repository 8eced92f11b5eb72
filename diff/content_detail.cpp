// Content explanations. Formats are parsed defensively: any inconsistency means "not this format".
#include "diff/content_detail.hpp"

#include "image/json.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <zlib.h>

namespace reproimg::diff {

namespace {

std::uint32_t le16(const std::string& s, size_t at)
{
  return static_cast<unsigned char>(s[at]) | (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8);
}

std::uint32_t le32(const std::string& s, size_t at)
{
  return le16(s, at) | (le16(s, at + 2) << 16);
}

void zero(std::string& s, size_t at, size_t n)
{
  if (at < s.size()) {
    std::fill(s.begin() + static_cast<long>(at), s.begin() + static_cast<long>(std::min(s.size(), at + n)), '\0');
  }
}

// --- gzip -------------------------------------------------------------------------------------

struct GzipHeader {
  std::uint32_t mtime = 0;
  unsigned xfl = 0;
  unsigned os = 0;
  std::string name;
  std::string comment;
  bool has_name = false;
  size_t length = 0; // bytes of the header
};

bool is_gzip(const std::string& s)
{
  return s.size() >= 18 && static_cast<unsigned char>(s[0]) == 0x1f && static_cast<unsigned char>(s[1]) == 0x8b &&
         s[2] == 8;
}

std::optional<GzipHeader> gzip_header(const std::string& s)
{
  if (!is_gzip(s)) {
    return std::nullopt;
  }
  GzipHeader h;
  const unsigned flg = static_cast<unsigned char>(s[3]);
  h.mtime = le32(s, 4);
  h.xfl = static_cast<unsigned char>(s[8]);
  h.os = static_cast<unsigned char>(s[9]);
  size_t p = 10;
  if (flg & 4) {
    if (p + 2 > s.size()) return std::nullopt;
    p += 2 + le16(s, p);
  }
  auto zstring = [&](std::string& out) {
    const auto end = s.find('\0', p);
    if (end == std::string::npos) return false;
    out = s.substr(p, end - p);
    p = end + 1;
    return true;
  };
  if (flg & 8) {
    h.has_name = true;
    if (!zstring(h.name)) return std::nullopt;
  }
  if ((flg & 16) && !zstring(h.comment)) {
    return std::nullopt;
  }
  if (flg & 2) {
    p += 2;
  }
  if (p > s.size()) {
    return std::nullopt;
  }
  h.length = p;
  return h;
}

// The decompressed payload of every member, or nullopt if it is not valid gzip (or too big).
std::optional<std::string> gunzip(const std::string& s, std::uint64_t max_inflate)
{
  z_stream z{};
  if (inflateInit2(&z, 16 + 15) != Z_OK) {
    return std::nullopt;
  }
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(s.size(), 0x7fffffff));
  std::vector<unsigned char> buf(1 << 16);
  bool ok = false;
  for (;;) {
    z.next_out = buf.data();
    z.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(reinterpret_cast<char*>(buf.data()), buf.size() - z.avail_out);
    if (out.size() > max_inflate) {
      break;
    }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) {
        ok = true;
        break;
      }
      if (inflateReset(&z) != Z_OK) break; // the next member
      continue;
    }
    if (rc != Z_OK) {
      break;
    }
  }
  inflateEnd(&z);
  if (!ok) {
    return std::nullopt;
  }
  return out;
}

// --- zip --------------------------------------------------------------------------------------

// Zeroes every timestamp of a zip (DOS time/date of local and central headers, the extended
// timestamp, NTFS and old Unix extra fields). Returns the names of entries whose times were set, or
// nullopt when it does not parse.
std::optional<std::vector<std::pair<std::string, std::uint32_t>>> mask_zip_times(std::string& s)
{
  if (s.size() < 22 || s.compare(0, 4, "PK\x03\x04", 4) != 0) {
    return std::nullopt;
  }
  size_t eocd = std::string::npos;
  const size_t lowest = s.size() > 22 + 65535 ? s.size() - 22 - 65535 : 0;
  for (size_t i = s.size() - 22 + 1; i-- > lowest;) {
    if (s.compare(i, 4, "PK\x05\x06", 4) == 0) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) {
    return std::nullopt;
  }
  const std::uint32_t entries = le16(s, eocd + 10);
  const std::uint32_t cd_offset = le32(s, eocd + 16);
  auto mask_extra = [&](size_t at, size_t len) {
    size_t p = at;
    const size_t end = std::min(s.size(), at + len);
    while (p + 4 <= end) {
      const std::uint32_t id = le16(s, p);
      const std::uint32_t n = le16(s, p + 2);
      if (id == 0x5455 || id == 0x000a || id == 0x5855) {
        zero(s, p + 4 + (id == 0x5455 ? 1 : 0), n - (id == 0x5455 && n > 0 ? 1 : 0));
      }
      p += 4 + n;
    }
  };
  std::vector<std::pair<std::string, std::uint32_t>> times;
  size_t p = cd_offset;
  for (std::uint32_t i = 0; i < entries; ++i) {
    if (p + 46 > s.size() || s.compare(p, 4, "PK\x01\x02", 4) != 0) {
      return std::nullopt;
    }
    const std::uint32_t name_len = le16(s, p + 28);
    const std::uint32_t extra_len = le16(s, p + 30);
    const std::uint32_t comment_len = le16(s, p + 32);
    const std::uint32_t local = le32(s, p + 42);
    if (p + 46 + name_len > s.size()) {
      return std::nullopt;
    }
    times.emplace_back(s.substr(p + 46, name_len), le32(s, p + 12));
    zero(s, p + 12, 4);
    mask_extra(p + 46 + name_len, extra_len);
    if (local + 30 <= s.size() && s.compare(local, 4, "PK\x03\x04", 4) == 0) {
      const std::uint32_t lname = le16(s, local + 26);
      const std::uint32_t lextra = le16(s, local + 28);
      zero(s, local + 10, 4);
      mask_extra(local + 30 + lname, lextra);
    } else {
      return std::nullopt;
    }
    p += 46 + name_len + extra_len + comment_len;
  }
  return times;
}

std::string dos_time(std::uint32_t t)
{
  const unsigned time = t & 0xffff;
  const unsigned date = t >> 16;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02u %02u:%02u:%02u", 1980 + (date >> 9), (date >> 5) & 15, date & 31,
                time >> 11, (time >> 5) & 63, (time & 31) * 2);
  return buf;
}

// --- ar ---------------------------------------------------------------------------------------

struct ArMember {
  std::string name;
  std::string mtime;
};

// Zeroes the mtime, uid and gid of every member (what `ar D` writes); nullopt if not an ar archive.
std::optional<std::vector<ArMember>> mask_ar(std::string& s)
{
  if (s.compare(0, 8, "!<arch>\n") != 0) {
    return std::nullopt;
  }
  std::vector<ArMember> members;
  size_t p = 8;
  while (p < s.size()) {
    if (p + 60 > s.size() || s.compare(p + 58, 2, "`\n") != 0) {
      return std::nullopt;
    }
    std::string name = s.substr(p, 16);
    name.erase(name.find_last_not_of(' ') + 1);
    std::string mtime = s.substr(p + 16, 12);
    mtime.erase(mtime.find_last_not_of(' ') + 1);
    const std::string size_text = s.substr(p + 48, 10);
    char* end = nullptr;
    const unsigned long long size = std::strtoull(size_text.c_str(), &end, 10);
    if (size > s.size() - p - 60) {
      return std::nullopt; // a member larger than what is left (and no wrap-around of p)
    }
    members.push_back({name, mtime});
    zero(s, p + 16, 12 + 6 + 6);
    p += 60 + size + (size & 1);
  }
  return members;
}

std::string hex_line(const std::string& s, size_t start)
{
  char buf[32];
  std::string out;
  std::snprintf(buf, sizeof buf, "%08zx:", start);
  out = buf;
  for (size_t i = start; i < start + 16 && i < s.size(); ++i) {
    std::snprintf(buf, sizeof buf, " %02x", static_cast<unsigned char>(s[i]));
    out += buf;
  }
  return out;
}

std::optional<size_t> first_difference(const std::string& a, const std::string& b)
{
  const size_t n = std::min(a.size(), b.size());
  const auto m = std::mismatch(a.begin(), a.begin() + static_cast<long>(n), b.begin());
  const size_t at = static_cast<size_t>(m.first - a.begin());
  if (at == n && a.size() == b.size()) {
    return std::nullopt;
  }
  return at;
}

void binary_detail(const std::string& a, const std::string& b, ContentExplanation& e)
{
  if (const auto at = first_difference(a, b)) {
    e.attributes.push_back({"first_difference", {Json(*at), Json(*at)}});
    const size_t start = *at / 16 * 16;
    e.detail.push_back("first difference at byte " + std::to_string(*at) + ":");
    e.detail.push_back("- " + hex_line(a, start));
    e.detail.push_back("+ " + hex_line(b, start));
  }
}

} // namespace

bool looks_like_text(const std::string& s)
{
  const size_t n = std::min<size_t>(s.size(), 65536);
  return std::memchr(s.data(), '\0', n) == nullptr;
}

std::vector<std::string> unified_diff(const std::string& a, const std::string& b, size_t max_lines)
{
  auto split = [](const std::string& s) {
    std::vector<std::string> lines;
    size_t p = 0;
    while (p < s.size()) {
      const auto nl = s.find('\n', p);
      const size_t end = nl == std::string::npos ? s.size() : nl;
      lines.push_back(s.substr(p, end - p) + (nl == std::string::npos ? "" : ""));
      p = nl == std::string::npos ? s.size() : nl + 1;
    }
    return lines;
  };
  const auto la = split(a);
  const auto lb = split(b);
  size_t pre = 0;
  while (pre < la.size() && pre < lb.size() && la[pre] == lb[pre]) ++pre;
  size_t suf = 0;
  while (suf < la.size() - pre && suf < lb.size() - pre && la[la.size() - 1 - suf] == lb[lb.size() - 1 - suf]) ++suf;
  const size_t n = la.size() - pre - suf;
  const size_t m = lb.size() - pre - suf;
  // The edit script of the middle part: LCS by dynamic programming when it is small enough, else
  // the whole middle as one replacement.
  enum class Op : char { keep, del, add };
  std::vector<std::pair<Op, size_t>> script; // (op, line index in a or b)
  for (size_t i = 0; i < pre; ++i) script.emplace_back(Op::keep, i);
  if (n > 0 && m > 0 && n * m <= 4'000'000) {
    std::vector<std::uint32_t> dp((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> std::uint32_t& { return dp[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) = la[pre + i] == lb[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0;
    size_t j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && la[pre + i] == lb[pre + j]) {
        script.emplace_back(Op::keep, pre + i);
        ++i;
        ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        script.emplace_back(Op::del, pre + i);
        ++i;
      } else {
        script.emplace_back(Op::add, pre + j);
        ++j;
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) script.emplace_back(Op::del, pre + i);
    for (size_t j = 0; j < m; ++j) script.emplace_back(Op::add, pre + j);
  }
  for (size_t i = 0; i < suf; ++i) script.emplace_back(Op::keep, la.size() - suf + i);

  // Hunks with 3 lines of context.
  std::vector<std::string> out;
  const size_t context = 3;
  size_t k = 0;
  // Line numbers before each script step.
  std::vector<std::pair<size_t, size_t>> pos(script.size() + 1);
  {
    size_t ia = 0;
    size_t ib = 0;
    for (size_t s = 0; s < script.size(); ++s) {
      pos[s] = {ia, ib};
      if (script[s].first != Op::add) ++ia;
      if (script[s].first != Op::del) ++ib;
    }
    pos[script.size()] = {ia, ib};
  }
  bool cut = false;
  while (k < script.size()) {
    while (k < script.size() && script[k].first == Op::keep) ++k;
    if (k == script.size()) break;
    size_t start = k >= context ? k - context : 0;
    size_t end = k;
    // Extend over changes separated by at most 2*context kept lines.
    for (;;) {
      while (end < script.size() && script[end].first != Op::keep) ++end;
      size_t keep_run = end;
      while (keep_run < script.size() && script[keep_run].first == Op::keep && keep_run - end <= 2 * context) ++keep_run;
      if (keep_run < script.size() && script[keep_run].first != Op::keep && keep_run - end <= 2 * context) {
        end = keep_run;
        continue;
      }
      break;
    }
    const size_t stop = std::min(script.size(), end + context);
    const size_t a_len = pos[stop].first - pos[start].first;
    const size_t b_len = pos[stop].second - pos[start].second;
    out.push_back("@@ -" + std::to_string(pos[start].first + (a_len ? 1 : 0)) + "," + std::to_string(a_len) + " +" +
                  std::to_string(pos[start].second + (b_len ? 1 : 0)) + "," + std::to_string(b_len) + " @@");
    for (size_t s = start; s < stop; ++s) {
      if (out.size() >= max_lines) {
        cut = true;
        break;
      }
      const auto& [op, idx] = script[s];
      const std::string& text = op == Op::add ? lb[idx] : la[idx];
      out.push_back((op == Op::keep ? " " : op == Op::del ? "-" : "+") + text);
    }
    if (cut || out.size() >= max_lines) {
      cut = k < script.size();
      break;
    }
    k = stop;
  }
  if (cut) {
    out.push_back("... (diff cut at --max-diff-lines " + std::to_string(max_lines) + ")");
  }
  return out;
}

ContentExplanation explain_content(const std::string& a, const std::string& b, bool truncated, size_t max_diff_lines,
                                   std::uint64_t max_inflate)
{
  ContentExplanation e;
  // gzip: header fields versus payload.
  if (!truncated && is_gzip(a) && is_gzip(b)) {
    const auto ha = gzip_header(a);
    const auto hb = gzip_header(b);
    const auto pa = ha ? gunzip(a, max_inflate) : std::nullopt;
    const auto pb = hb ? gunzip(b, max_inflate) : std::nullopt;
    if (pa && pb) {
      e.format = "gzip";
      if (ha->mtime != hb->mtime) e.attributes.push_back({"gzip.mtime", {Json(image::rfc3339(ha->mtime)), Json(image::rfc3339(hb->mtime))}});
      if (ha->name != hb->name || ha->has_name != hb->has_name) e.attributes.push_back({"gzip.name", {Json(ha->name), Json(hb->name)}});
      if (ha->os != hb->os) e.attributes.push_back({"gzip.os", {Json(ha->os), Json(hb->os)}});
      if (ha->xfl != hb->xfl) e.attributes.push_back({"gzip.xfl", {Json(ha->xfl), Json(hb->xfl)}});
      if (*pa == *pb) {
        const bool header_only = !e.attributes.empty() &&
                                 std::all_of(e.attributes.begin(), e.attributes.end(), [](const auto& x) {
                                   return x.first == "gzip.mtime" || x.first == "gzip.name";
                                 });
        e.only_embedded_timestamps =
            header_only && a.compare(ha->length, std::string::npos, b, hb->length, std::string::npos) == 0;
        if (!e.only_embedded_timestamps) {
          e.detail.push_back("same decompressed payload, different compressed bytes (compression level or tool)");
        } else {
          e.detail.push_back("same decompressed payload; only the gzip header differs");
        }
        return e;
      }
      e.attributes.push_back({"gzip.payload_size", {Json(pa->size()), Json(pb->size())}});
      if (looks_like_text(*pa) && looks_like_text(*pb)) {
        e.detail = unified_diff(*pa, *pb, max_diff_lines);
      } else {
        binary_detail(*pa, *pb, e);
      }
      return e;
    }
  }
  if (!truncated && a.size() == b.size()) {
    // zip / jar
    std::string ma = a;
    std::string mb = b;
    const auto za = mask_zip_times(ma);
    const auto zb = za ? mask_zip_times(mb) : std::nullopt;
    if (za && zb) {
      e.format = "zip";
      if (ma == mb) {
        e.only_embedded_timestamps = true;
        for (size_t i = 0; i < za->size() && i < zb->size(); ++i) {
          if ((*za)[i].second != (*zb)[i].second) {
            e.attributes.push_back({"zip.entry_time", {Json((*za)[i].first + " " + dos_time((*za)[i].second)),
                                                        Json((*zb)[i].first + " " + dos_time((*zb)[i].second))}});
            break;
          }
        }
        if (e.attributes.empty()) {
          e.attributes.push_back({"zip.extra_timestamps", {Json("set"), Json("set")}});
        }
        return e;
      }
    }
    // .pyc: magic, flags, then the source mtime and size when flags == 0
    if (a.size() >= 16 && a[2] == '\r' && a[3] == '\n' && a.compare(0, 8, b, 0, 8) == 0 && le32(a, 4) == 0) {
      e.format = "pyc";
      if (a.compare(8, 4, b, 8, 4) != 0 && a.compare(12, std::string::npos, b, 12, std::string::npos) == 0) {
        e.only_embedded_timestamps = true;
        e.attributes.push_back({"pyc.source_mtime", {Json(image::rfc3339(le32(a, 8))), Json(image::rfc3339(le32(b, 8)))}});
        return e;
      }
    }
    // ar (.a, .deb)
    std::string aa = a;
    std::string ab = b;
    const auto ra = mask_ar(aa);
    const auto rb = ra ? mask_ar(ab) : std::nullopt;
    if (ra && rb) {
      e.format = "ar";
      if (aa == ab) {
        e.only_embedded_timestamps = true;
        for (size_t i = 0; i < ra->size() && i < rb->size(); ++i) {
          if ((*ra)[i].mtime != (*rb)[i].mtime) {
            e.attributes.push_back({"ar.member_mtime", {Json((*ra)[i].name + " " + (*ra)[i].mtime),
                                                         Json((*rb)[i].name + " " + (*rb)[i].mtime)}});
            break;
          }
        }
        if (e.attributes.empty()) {
          e.attributes.push_back({"ar.member_owner", {Json("set"), Json("set")}});
        }
        return e;
      }
    }
  }
  if (looks_like_text(a) && looks_like_text(b)) {
    e.format = "text";
    e.detail = unified_diff(a, b, max_diff_lines);
    if (truncated) {
      e.detail.push_back("(compared the first " + std::to_string(std::max(a.size(), b.size())) + " bytes only)");
    }
    return e;
  }
  e.format = "binary";
  binary_detail(a, b, e);
  return e;
}

namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t dos_seconds(std::uint32_t t)
{
  const unsigned time = t & 0xffff;
  const unsigned date = t >> 16;
  const unsigned month = std::clamp((date >> 5) & 15, 1u, 12u);
  const unsigned day = std::clamp(date & 31, 1u, 31u);
  return days_from_civil(1980 + (date >> 9), month, day) * 86400 + (time >> 11) * 3600 + ((time >> 5) & 63) * 60 +
         (time & 31) * 2;
}

bool ends_with(const std::string& s, const char* suffix)
{
  const std::string x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

std::optional<EmbeddedTime> zip_time(std::string content, std::int64_t epoch)
{
  const auto times = mask_zip_times(content);
  if (!times) return std::nullopt;
  const std::int64_t earliest = dos_seconds(0x00210000); // 1980-01-01 00:00:00
  std::optional<EmbeddedTime> newest;
  for (const auto& [name, t] : *times) {
    const std::int64_t s = dos_seconds(t);
    const bool clamped = s == earliest || (s >= epoch - 1 && s <= epoch + 1); // DOS times count in 2 s steps
    if (!clamped && (!newest || s > newest->time)) newest = EmbeddedTime{"zip", "zip.entry_time", s, name};
  }
  return newest;
}

std::optional<EmbeddedTime> ar_time(std::string content, std::int64_t epoch)
{
  const auto members = mask_ar(content);
  if (!members) return std::nullopt;
  std::optional<EmbeddedTime> newest;
  for (const auto& m : *members) {
    char* end = nullptr;
    const long long t = std::strtoll(m.mtime.c_str(), &end, 10);
    if (end != m.mtime.c_str() && t != 0 && t != epoch && (!newest || t > newest->time)) {
      newest = EmbeddedTime{"ar", "ar.member_mtime", t, m.name};
    }
  }
  return newest;
}

} // namespace

std::optional<EmbeddedTime> embedded_time(const std::string& name, const std::string& content, bool complete,
                                          std::int64_t epoch)
{
  if (ends_with(name, ".pyc")) {
    if (content.size() >= 16 && content[2] == '\r' && content[3] == '\n' && le32(content, 4) == 0) {
      return EmbeddedTime{"pyc", "pyc.source_mtime", le32(content, 8), ""};
    }
    return std::nullopt;
  }
  if (const auto h = gzip_header(content)) {
    if (h->mtime != 0 && h->mtime != epoch) return EmbeddedTime{"gzip", "gzip.mtime", h->mtime, h->name};
    return std::nullopt;
  }
  if (!complete) return std::nullopt;
  if (content.compare(0, 4, "PK\x03\x04", 4) == 0) return zip_time(content, epoch);
  if (content.compare(0, 8, "!<arch>\n") == 0) return ar_time(content, epoch);
  return std::nullopt;
}

} // namespace reproimg::diff
