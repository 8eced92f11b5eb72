// Unit tests for the image overlay: whiteouts, opaque markers, replacements and hardlinks, one
// rule a case (the OCI image spec's "Applying Changesets" and "Whiteouts").
#include "image/overlay.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

// Named, not anonymous: the unit suites may be built as one unity file.
namespace overlay_tests {

using namespace reproimg::image;

// A node: its type ('d' directory, 'f' file, 's' symlink, 'h' hardlink) and what it carries (a
// file's data, a directory's attributes, a link's target).
struct N {
  char type = 'f';
  std::string value;
};

struct TestNodes {
  bool is_directory(const N& n) const { return n.type == 'd'; }
  const std::string* hardlink_target(const N& n) const { return n.type == 'h' ? &n.value : nullptr; }
  N linked(const N&, const std::string& data_path, const N&) const { return {'h', data_path}; }
  N detached(const N&, const std::string&, const N& data) const { return data; }
};

using Tree = Overlay<N, TestNodes>;
using Layer = Tree::Layer;

std::pair<std::string, N> dir(const std::string& path, const std::string& attributes = "")
{
  return {path, {'d', attributes}};
}
std::pair<std::string, N> file(const std::string& path, const std::string& data = "")
{
  return {path, {'f', data}};
}
std::pair<std::string, N> sym(const std::string& path, const std::string& target)
{
  return {path, {'s', target}};
}
std::pair<std::string, N> hardlink(const std::string& path, const std::string& target)
{
  return {path, {'h', target}};
}
// A whiteout or opaque file: its node is whatever the tar says, which does not matter.
std::pair<std::string, N> marker(const std::string& path)
{
  return {path, {'f', ""}};
}

// The tree as "path=TYPE[:value]" in path order, space-separated.
std::string show(const Tree& t)
{
  std::string out;
  for (const auto& [path, n] : t.tree()) {
    out += (out.empty() ? "" : " ") + path + "=" + n.type + (n.value.empty() ? "" : ":" + n.value);
  }
  return out;
}

std::string apply(const std::vector<Layer>& layers)
{
  Tree t;
  for (const auto& l : layers) {
    t.apply(l);
  }
  return show(t);
}

const Layer k_base = {dir("a"), file("a/f", "1"), dir("a/sub"), file("a/sub/g", "2"), file("b", "3"), dir("c"),
                      file("c/h", "4")};

BOOST_AUTO_TEST_SUITE(overlay)

BOOST_AUTO_TEST_CASE(layer_paths_are_entries_whiteouts_opaque_markers_or_hidden)
{
  using K = LayerPath::Kind;
  BOOST_TEST((classify_layer_path("a/b").kind == K::entry));
  BOOST_TEST((classify_layer_path("a/x.wh.b").kind == K::entry));
  auto p = classify_layer_path("a/.wh.b");
  BOOST_TEST((p.kind == K::whiteout));
  BOOST_TEST(p.target == "a/b");
  p = classify_layer_path(".wh.top");
  BOOST_TEST((p.kind == K::whiteout));
  BOOST_TEST(p.target == "top");
  p = classify_layer_path("a/b/.wh..wh..opq");
  BOOST_TEST((p.kind == K::opaque));
  BOOST_TEST(p.target == "a/b");
  p = classify_layer_path(".wh..wh..opq");
  BOOST_TEST((p.kind == K::opaque));
  BOOST_TEST(p.target == "");
  BOOST_TEST((classify_layer_path("a/.wh.").kind == K::hidden));        // names nothing
  BOOST_TEST((classify_layer_path(".wh..wh.plnk").kind == K::hidden));  // AUFS metadata
  BOOST_TEST((classify_layer_path(".wh..wh.plnk/123").kind == K::hidden));
  BOOST_TEST((classify_layer_path("a/.wh.b/c").kind == K::hidden));     // below a whiteout name
}

BOOST_AUTO_TEST_CASE(a_whiteout_removes_its_path_and_everything_below_it_and_is_not_in_the_tree)
{
  BOOST_TEST(apply({k_base, {marker("a/.wh.sub")}}) == "a=d a/f=f:1 b=f:3 c=d c/h=f:4");
  BOOST_TEST(apply({k_base, {marker(".wh.a")}}) == "b=f:3 c=d c/h=f:4");
  BOOST_TEST(apply({k_base, {marker(".wh.b"), marker("c/.wh.h")}}) == "a=d a/f=f:1 a/sub=d a/sub/g=f:2 c=d");
  // Siblings that share a prefix are not below it.
  BOOST_TEST(apply({{dir("x"), file("x/1"), file("x-y"), file("x0")}, {marker(".wh.x")}}) == "x-y=f x0=f");
}

BOOST_AUTO_TEST_CASE(an_opaque_directory_keeps_itself_and_drops_its_lower_children)
{
  BOOST_TEST(apply({k_base, {marker("a/.wh..wh..opq")}}) == "a=d b=f:3 c=d c/h=f:4");
  // With a new entry for the directory: its attributes are the new ones.
  BOOST_TEST(apply({k_base, {dir("a", "0700"), marker("a/.wh..wh..opq")}}) == "a=d:0700 b=f:3 c=d c/h=f:4");
  // The root.
  BOOST_TEST(apply({k_base, {marker(".wh..wh..opq"), file("n", "5")}}) == "n=f:5");
}

BOOST_AUTO_TEST_CASE(markers_act_on_lower_layers_only_whatever_their_place_in_the_layer)
{
  const std::string expected = "a=d a/new=f:n a/sub=d a/sub/g2=f:x b=f:3 c=d c/h=f:4";
  // The spec's example: the opaque directory's new content stays, before or after the marker.
  BOOST_TEST(apply({k_base, {marker("a/.wh..wh..opq"), dir("a"), file("a/new", "n"), dir("a/sub"), file("a/sub/g2", "x")}}) ==
             expected);
  BOOST_TEST(apply({k_base, {dir("a"), file("a/new", "n"), dir("a/sub"), file("a/sub/g2", "x"), marker("a/.wh..wh..opq")}}) ==
             expected);
  // A whiteout and an entry of the same path in one layer: the entry stays (and what the lower
  // layers had below the path is gone).
  BOOST_TEST(apply({k_base, {file("b", "new"), marker(".wh.b")}}) == "a=d a/f=f:1 a/sub=d a/sub/g=f:2 b=f:new c=d c/h=f:4");
  BOOST_TEST(apply({k_base, {dir("a"), file("a/f", "9"), marker(".wh.a")}}) == "a=d a/f=f:9 b=f:3 c=d c/h=f:4");
  // The next layer's whiteout does remove them.
  BOOST_TEST(apply({k_base, {file("b", "new"), marker(".wh.b")}, {marker(".wh.b")}}) ==
             "a=d a/f=f:1 a/sub=d a/sub/g=f:2 c=d c/h=f:4");
}

BOOST_AUTO_TEST_CASE(a_whiteout_of_what_does_not_exist_is_ignored)
{
  const std::string base = apply({k_base});
  BOOST_TEST(apply({k_base, {marker(".wh.nothing"), marker("a/.wh.nothing"), marker("nodir/.wh.x")}}) == base);
  BOOST_TEST(apply({k_base, {marker("b/.wh.below-a-file"), marker("nodir/.wh..wh..opq")}}) == base);
  BOOST_TEST(apply({k_base, {marker("a/.wh."), marker(".wh..wh.plnk")}}) == base);
}

BOOST_AUTO_TEST_CASE(a_file_replacing_a_directory_drops_what_was_below_it)
{
  BOOST_TEST(apply({k_base, {file("a", "now a file")}}) == "a=f:now a file b=f:3 c=d c/h=f:4");
  BOOST_TEST(apply({k_base, {sym("c", "a")}}) == "a=d a/f=f:1 a/sub=d a/sub/g=f:2 b=f:3 c=s:a");
  // ... but not what the same layer puts there (a layer that cannot be extracted: kept as written).
  BOOST_TEST(apply({k_base, {file("c", "x"), file("c/new", "y")}}) ==
             "a=d a/f=f:1 a/sub=d a/sub/g=f:2 b=f:3 c=f:x c/new=f:y");
  BOOST_TEST(apply({k_base, {hardlink("c", "b"), file("c/new", "y")}}) ==
             "a=d a/f=f:1 a/sub=d a/sub/g=f:2 b=f:3 c=h:b c/new=f:y");
}

BOOST_AUTO_TEST_CASE(a_directory_replacing_a_file_and_a_directory_over_a_directory)
{
  BOOST_TEST(apply({k_base, {dir("b", "0700"), file("b/in", "5")}}) ==
             "a=d a/f=f:1 a/sub=d a/sub/g=f:2 b=d:0700 b/in=f:5 c=d c/h=f:4");
  // A directory over a directory: its attributes change, its content stays.
  BOOST_TEST(apply({k_base, {dir("a", "0700")}}) == "a=d:0700 a/f=f:1 a/sub=d a/sub/g=f:2 b=f:3 c=d c/h=f:4");
  // A directory over a symlink.
  BOOST_TEST(apply({{sym("l", "x")}, {dir("l"), file("l/y")}}) == "l=d l/y=f");
}

BOOST_AUTO_TEST_CASE(a_path_stored_twice_in_a_layer_counts_once_the_last_time)
{
  BOOST_TEST(apply({{file("x", "1"), file("x", "2")}}) == "x=f:2");
  BOOST_TEST(apply({k_base, {file("a", "1"), dir("a", "0700")}}) == "a=d:0700 a/f=f:1 a/sub=d a/sub/g=f:2 b=f:3 c=d c/h=f:4");
}

BOOST_AUTO_TEST_CASE(the_order_of_a_layers_entries_does_not_change_the_result)
{
  const Layer lower = {dir("a"), file("a/f", "1"), dir("a/sub"), file("a/sub/g", "2"), file("b", "3"),
                       dir("c"), file("c/h", "4"), hardlink("c/l", "c/h"), dir("d"), file("d/x")};
  Layer layer = {marker("a/.wh..wh..opq"), file("a/new", "n"), marker(".wh.b"), file("b", "5"),
                 marker("c/.wh.h"), hardlink("c/m", "c/h"), file("d", "file"), marker("e/.wh.q")};
  const std::string expected = apply({lower, layer});
  BOOST_TEST(expected == "a=d a/new=f:n b=f:5 c=d c/l=f:4 c/m=h:c/l d=f:file");
  std::sort(layer.begin(), layer.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  size_t orders = 0;
  do {
    const std::string got = apply({lower, layer});
    if (got != expected) {
      BOOST_TEST(got == expected);
      break;
    }
    ++orders;
  } while (std::next_permutation(layer.begin(), layer.end(),
                                 [](const auto& x, const auto& y) { return x.first < y.first; }));
  BOOST_TEST(orders == 40320u); // 8!
}

BOOST_AUTO_TEST_CASE(hardlinks_keep_the_data_of_a_whited_out_path)
{
  const Layer lower = {file("data", "D"), hardlink("l1", "data"), hardlink("l2", "data")};
  // The first link in path order takes the data, the others link to it.
  BOOST_TEST(apply({lower, {marker(".wh.data")}}) == "l1=f:D l2=h:l1");
  // Whiting that one out in turn leaves the data with the next.
  BOOST_TEST(apply({lower, {marker(".wh.data")}, {marker(".wh.l1")}}) == "l2=f:D");
  // Removed with a directory above it.
  BOOST_TEST(apply({{dir("d"), file("d/data", "D"), hardlink("l", "d/data")}, {marker(".wh.d")}}) == "l=f:D");
  BOOST_TEST(apply({{dir("d"), file("d/data", "D"), hardlink("l", "d/data")}, {file("d", "F")}}) == "d=f:F l=f:D");
  // A link removed with its data: nothing left to keep.
  BOOST_TEST(apply({lower, {marker(".wh.data"), marker(".wh.l1"), marker(".wh.l2")}}) == "");
}

BOOST_AUTO_TEST_CASE(hardlinks_keep_the_old_data_of_a_replaced_path)
{
  const Layer lower = {file("data", "old"), hardlink("l", "data")};
  BOOST_TEST(apply({lower, {file("data", "new")}}) == "data=f:new l=f:old");
  BOOST_TEST(apply({lower, {dir("data")}}) == "data=d l=f:old");
  // A link of the replacing layer names the new data.
  BOOST_TEST(apply({lower, {file("data", "new"), hardlink("m", "data")}}) == "data=f:new l=f:old m=h:data");
}

BOOST_AUTO_TEST_CASE(a_hardlink_to_a_path_its_own_layer_whites_out_names_the_lower_data)
{
  // The link names what the lower layers had there, whose path the layer removes: it shares that
  // data with the lower links.
  const Layer lower = {file("data", "D"), hardlink("l", "data")};
  BOOST_TEST(apply({lower, {hardlink("m", "data"), marker(".wh.data")}}) == "l=f:D m=h:l");
  BOOST_TEST(apply({lower, {marker(".wh.data"), hardlink("a", "data")}}) == "a=f:D l=h:a");
  BOOST_TEST(apply({{file("data", "D")}, {marker(".wh.data"), hardlink("m", "data")}}) == "m=f:D");
  // An entry of its own layer at that path comes first.
  BOOST_TEST(apply({lower, {marker(".wh.data"), file("data", "N"), hardlink("m", "data")}}) == "data=f:N l=f:D m=h:data");
}

BOOST_AUTO_TEST_CASE(hardlinks_to_links_and_to_nothing)
{
  // A link to a link names the data.
  BOOST_TEST(apply({{file("data", "D"), hardlink("l1", "data"), hardlink("l2", "l1")}}) == "data=f:D l1=h:data l2=h:data");
  BOOST_TEST(apply({{file("data", "D"), hardlink("l1", "data")}, {hardlink("l2", "l1")}}) == "data=f:D l1=h:data l2=h:data");
  // To nothing: kept as written (an extractor fails there).
  BOOST_TEST(apply({{hardlink("l", "missing")}}) == "l=h:missing");
  // A link replaced by a file: the data stays where it is.
  BOOST_TEST(apply({{file("data", "D"), hardlink("l", "data")}, {file("l", "F")}}) == "data=f:D l=f:F");
}

BOOST_AUTO_TEST_CASE(names_starting_with_wh_never_appear)
{
  BOOST_TEST(apply({{dir(".wh..wh.plnk"), file(".wh..wh.plnk/123", "x"), dir("a"), file("a/.wh.b/c")}}) == "a=d");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace overlay_tests
