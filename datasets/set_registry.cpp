#include "datasets/set_registry.h"

#include <algorithm>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "datasets/class_folders.h"
#include "datasets/copydays.h"
#include "datasets/cub200.h"
#include "datasets/disc21.h"
#include "datasets/gnd_json.h"
#include "datasets/gpr1200.h"
#include "datasets/instre.h"
#include "datasets/revisitop.h"

namespace fs = std::filesystem;

namespace repbench::datasets {

namespace {

// A registered set: what it is, and how to load it under a (validated) protocol.
struct Entry {
  SetInfo info;
  // The annotation file looked for in --root when --gnd is not given; "" for sets that are
  // defined by their folder layout alone (they need --root).
  std::string default_gnd_file;
  std::function<RetrievalSet(const std::string& gnd, const std::string& protocol,
                             const std::string& root)>
      load;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = [] {
    std::vector<Entry> e;
    for (const char* name : {"roxford5k", "rparis6k"}) {
      const bool ox = std::string(name) == "roxford5k";
      Entry x;
      x.info.name = name;
      x.info.protocols = revisitop_protocols();
      x.info.default_protocol = "medium";
      x.info.description =
          ox ? "Revisited Oxford5k (Radenovic et al. 2018): 70 landmark queries cropped to their "
               "box, easy/medium/hard protocols"
             : "Revisited Paris6k (Radenovic et al. 2018): 70 landmark queries cropped to their "
               "box, easy/medium/hard protocols";
      x.info.db_images = ox ? 4993 : 6322;
      x.info.queries = 70;
      x.default_gnd_file = fmt::format("gnd_{}.pkl", name);
      x.info.metric = revisitop_metric();
      x.info.files = fmt::format(
          "{0} and jpg/*.jpg from http://cmp.felk.cvut.cz/revisitop/data/datasets/{1}/ "
          "(revisitop's python/download.py); --root is the folder holding both",
          x.default_gnd_file, name);
      const std::string set_name = name;
      x.load = [set_name](const std::string& gnd, const std::string& protocol,
                          const std::string& root) {
        return load_revisitop(gnd, set_name, protocol, root);
      };
      e.push_back(std::move(x));
    }
    // The paper lineage read rOxford/rParis under Medium only, without cropping the queries.
    for (const char* name : {"roxford5k-dcr", "rparis6k-dcr"}) {
      const std::string base = std::string(name).substr(0, 8);
      Entry x = e[base == "roxford5" ? 0 : 1];
      x.info.name = name;
      x.info.protocols = {"medium"};
      x.info.default_protocol = "medium";
      x.info.description = fmt::format(
          "{} as the paper's lineage evaluated it (docs/PROTOCOLS.md §1.8): Medium protocol, "
          "queries NOT cropped to their box",
          x.info.name.substr(0, x.info.name.size() - 4));
      x.info.metric = dcr_metric();
      const std::string set_base = x.info.name.substr(0, x.info.name.size() - 4);
      const std::string set_name = name;
      x.load = [set_base, set_name](const std::string& gnd, const std::string& protocol,
                                    const std::string& root) {
        RetrievalSet s = load_revisitop(gnd, set_base, protocol, root);
        s.name = set_name;
        s.crop_queries = false;
        return s;
      };
      e.push_back(std::move(x));
    }
    {
      Entry x;
      x.info = {"instre",
                {"default"},
                "default",
                "INSTRE (Wang & Jiang 2015) in its standard protocol (Iscen et al. 2017): 1,250 "
                "queries cropped to their box, 27,293 database images, no junk",
                27293,
                1250,
                "gnd_instre.mat (ftp.irisa.fr/local/texmex/corpus/instre/) and the INSTRE-S1, "
                "INSTRE-S2, INSTRE-M folders of instre.tar.gz; --root is the folder holding them",
                revisitop_metric(
                    ", as the INSTRE protocol of Iscen et al. (CVPR 2017) scores gnd_instre.mat")};
      x.default_gnd_file = "gnd_instre.mat";
      x.load = [](const std::string& gnd, const std::string&, const std::string& root) {
        return load_instre(gnd, root);
      };
      e.push_back(std::move(x));
    }
    {
      Entry x;
      x.info = {"instre-s1-dcr",
                {"default"},
                "default",
                "INSTRE-S1 as the paper's lineage split it (docs/PROTOCOLS.md §3.3): per class "
                "the first 50 files, 10 queries and 40 database images, no crop",
                4000,
                1000,
                "the INSTRE-S1/ folder of instre.tar.gz; --root is the folder holding INSTRE-S1/",
                dcr_metric()};
      x.load = [](const std::string&, const std::string&, const std::string& root) {
        const fs::path s1 = fs::path(root) / "INSTRE-S1";
        std::error_code ec;
        if (!fs::is_directory(s1, ec)) fail("no INSTRE-S1/ folder in {}; is this INSTRE?", root);
        RetrievalSet s = split_class_folders(s1.string(), 0.2, 50);
        s.name = "instre-s1-dcr";
        return s;
      };
      e.push_back(std::move(x));
    }
    {
      Entry x;
      x.info = {"gpr1200",
                {"default"},
                "default",
                "GPR1200 (Schall et al. 2021), official evaluation: every image queries all "
                "12,000 including itself, 10 positives each (self included); mAP per subset too",
                12000,
                12000,
                "the images/ folder of GPR1200.zip (https://visual-computing.com/project/gpr1200/)"
                "; --root is that folder or its parent",
                gpr1200_metric()};
      x.load = [](const std::string&, const std::string&, const std::string& root) {
        return load_gpr1200(root);
      };
      e.push_back(std::move(x));
    }
    {
      Entry x;
      x.info = {"gpr1200-dcr",
                {"default"},
                "default",
                "GPR1200 as the paper's lineage built it (docs/PROTOCOLS.md §4.3): per category "
                "the first image (natural order) queries the next 4",
                4800,
                1200,
                "the images/ folder of GPR1200.zip; --root is that folder or its parent",
                dcr_metric("; bob-retrieval defines GPRdataset but never evaluates it, so it is "
                           "scored like the lineage's other sets")};
      x.load = [](const std::string&, const std::string&, const std::string& root) {
        return load_gpr1200_dcr(root);
      };
      e.push_back(std::move(x));
    }
    {
      Entry x;
      x.info = {"cub200",
                {"default"},
                "default",
                "CUB-200-2011 retrieval (deep-metric-learning protocol): test classes 101-200, "
                "each image queries all other test images; mAP and Recall@1/2/4/8",
                5924,
                5924,
                "CUB_200_2011.tgz (https://www.vision.caltech.edu/datasets/cub_200_2011/); --root "
                "is the CUB_200_2011/ folder (images.txt, image_class_labels.txt, classes.txt, "
                "images/)",
                dml_recall_metric()};
      x.load = [](const std::string&, const std::string&, const std::string& root) {
        return load_cub200(root);
      };
      e.push_back(std::move(x));
    }
    {
      Entry x;
      x.info = {"cub200-dcr",
                {"default"},
                "default",
                "CUB-200-2011 as the paper's lineage split it (docs/PROTOCOLS.md §5.2): all 200 "
                "classes, per class the first 20% of files (natural order) are queries",
                -1,  // depends on each class's size: floor(0.2 n) of n
                -1,
                "CUB_200_2011.tgz; --root is the CUB_200_2011/ folder",
                dcr_metric()};
      x.load = [](const std::string&, const std::string&, const std::string& root) {
        return load_cub200_dcr(root);
      };
      e.push_back(std::move(x));
    }
    // Copy-detection sets, scored by micro-AP (docs/PROTOCOLS.md §12).
    {
      Entry x;
      x.info = {"disc21",
                {"default"},
                "default",
                "DISC21 validation (Image Similarity Challenge 2021) in SSCD's layout: 50,000 "
                "queries, 1,000,000 references, micro-AP over the top-10 predictions per query",
                1000000,
                50000,
                "val_query/, val_ref/, val_groundtruth_matches.csv (and training/ for score "
                "normalisation) from https://ai.facebook.com/datasets/disc21-dataset/; --root is "
                "the folder holding them",
                disc21_metric()};
      x.default_gnd_file = "val_groundtruth_matches.csv";
      x.load = [](const std::string& gnd, const std::string&, const std::string& root) {
        return load_disc21(gnd, root);
      };
      e.push_back(std::move(x));
    }
    {
      Entry x;
      x.info = {"copydays",
                {"default"},
                "default",
                "INRIA Copydays as SSCD scores it: 3,212 queries of 20 blocks (original, strong, "
                "jpegqual/*, crops/*) against the 157 originals; trapezoid micro-AP, top-100",
                157,
                3212,
                "the original/, strong/, jpegqual/, crops/ folders of Copydays "
                "(https://thoth.inrialpes.fr/~jegou/data.php.html#copydays); --root is the "
                "folder holding them",
                copydays_metric()};
      x.load = [](const std::string&, const std::string&, const std::string& root) {
        return load_copydays(root, false);
      };
      e.push_back(x);
      // CD10K: the same queries against the originals plus 10,000 distractor images.
      x.info.name = "cd10k";
      x.info.description =
          "Copydays with 10,000 distractors (CD10K, SSCD's paper): the copydays queries against "
          "the 157 originals and the images of distractors/";
      x.info.db_images = 10157;
      x.info.files =
          "the copydays folders and, in distractors/, the 10,000 distractor images (SSCD used "
          "YFCC100M images); --root is the folder holding them";
      x.load = [](const std::string&, const std::string&, const std::string& root) {
        RetrievalSet s = load_copydays(root, true);
        s.name = "cd10k";
        return s;
      };
      e.push_back(std::move(x));
    }
    return e;
  }();
  return kEntries;
}

const Entry* find_entry(const std::string& name) {
  for (const auto& e : entries())
    if (e.info.name == name) return &e;
  return nullptr;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

[[noreturn]] void unknown_set(const std::string& set) {
  std::vector<std::string> names;
  for (const auto& e : entries()) names.push_back(e.info.name);
  fail("unknown set '{}'; known sets: {} (or a path to a gnd.json)", set, join(names));
}

const std::vector<std::string> kGndJsonProtocols = {"default"};

// The gnd.json that `set` names: the path itself, or <folder>/gnd.json.
std::string gnd_json_path(const std::string& set) {
  std::error_code ec;
  if (fs::is_directory(set, ec)) return (fs::path(set) / "gnd.json").string();
  return set;
}

// The protocol to load: the request's, or the default; must be one of `protocols`.
std::string pick_protocol(const std::string& set, const std::string& requested,
                          const std::vector<std::string>& protocols, const std::string& dflt) {
  if (requested.empty()) return dflt;
  if (std::find(protocols.begin(), protocols.end(), requested) == protocols.end())
    fail("set '{}' has no protocol '{}'; its protocols: {}", set, requested, join(protocols));
  return requested;
}

// Loads a registered set under the request's protocol (or its default).
RetrievalSet load_registered(const Entry& e, const SetRequest& r) {
  const std::string protocol =
      pick_protocol(r.set, r.protocol, e.info.protocols, e.info.default_protocol);
  if (e.default_gnd_file.empty()) {
    if (r.root.empty()) fail("set '{}' needs --root: {}", r.set, e.info.files);
    return e.load("", protocol, r.root);
  }
  if (r.gnd.empty() && r.root.empty())
    fail(
        "set '{}' needs its annotation file {}: pass --root <folder> (holding {}) or --gnd "
        "<file>",
        r.set, e.default_gnd_file, e.info.files);
  const std::string gnd =
      !r.gnd.empty() ? r.gnd : (fs::path(r.root) / e.default_gnd_file).string();
  // Without --root, images are looked for beside the annotation file (revisitop's layout).
  std::string root = r.root;
  if (root.empty()) {
    root = fs::path(gnd).parent_path().string();
    if (root.empty()) root = ".";
  }
  return e.load(gnd, protocol, root);
}

}  // namespace

const std::vector<SetInfo>& known_sets() {
  static const std::vector<SetInfo> kInfos = [] {
    std::vector<SetInfo> v;
    for (const auto& e : entries()) v.push_back(e.info);
    return v;
  }();
  return kInfos;
}

const SetInfo* find_set(const std::string& name) {
  const Entry* e = find_entry(name);
  return e ? &e->info : nullptr;
}

bool is_gnd_json_set(const std::string& set) {
  if (find_entry(set)) return false;
  if (set.size() >= 5 && set.compare(set.size() - 5, 5, ".json") == 0) return true;
  std::error_code ec;
  return fs::is_directory(set, ec) && fs::is_regular_file(fs::path(set) / "gnd.json", ec);
}

std::vector<std::string> protocols_for(const std::string& set) {
  if (const Entry* e = find_entry(set)) return e->info.protocols;
  if (is_gnd_json_set(set)) return kGndJsonProtocols;
  unknown_set(set);
}

RetrievalSet load_set(const SetRequest& r) {
  if (const Entry* e = find_entry(r.set)) {
    RetrievalSet set = load_registered(*e, r);
    set.metric = e->info.metric;
    return set;
  }
  if (is_gnd_json_set(r.set)) {
    const std::string path = gnd_json_path(r.set);
    if (!r.gnd.empty() && r.gnd != path)
      fail("--gnd {} does not apply to the gnd.json set {} (the set is its own annotation file)",
           r.gnd, path);
    pick_protocol(r.set, r.protocol, kGndJsonProtocols, "default");
    RetrievalSet set = read_gnd_json(path);
    if (!r.root.empty()) set.root = r.root;
    return set;
  }
  unknown_set(r.set);
}

}  // namespace repbench::datasets
