#include "demo/demo_pool.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sha256.h"
#include "datasets/gnd_json.h"

namespace fs = std::filesystem;

namespace repbench::demo {

const char* default_pool_dir() { return "/usr/share/doc/opencv-doc/examples/data"; }

const std::vector<PoolImage>& demo_pool() {
  static const std::vector<PoolImage> kPool = {
      {"aloeL.jpg", "cce5736808efe80d9f04b118dbb978c344d4345672b332718c3e039a3eeb8eee"},
      {"aloeR.jpg", "9b23100df31a846bc6e6a6545563b2b4120b948c9835c7d36cde00af77f4503e"},
      {"graf1.png", "1504b769303c7bde00fa578eeaad3c68e02aceabeb1242e556f1f8d19e4bdea5"},
      {"graf3.png", "492e0e96f21748d093e1a29f4dbfd46528bd75966937e85ce7c8abc0f361fc15"},
      {"leuvenA.jpg", "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f"},
      {"leuvenB.jpg", "5bb41a60038a2baa5d8ea0eaba55e6e3050d721b254cf79d8d8998d7e49d664a"},
      {"box.png", "1094629c1e2ebbc8a9ae2c9c63e18c1dff0f5f1481146e02f3b11a3d30feb20a"},
      {"box_in_scene.png", "8b0225ff76244a42bd1400c0904f8b7afea7d97b7d8115495e42e98ad347bd51"},
      {"Blender_Suzanne1.jpg", "bc3330e78e3456688e22b62fe033b8b2444fd016df567b1782bcc9baaead8e02"},
      {"Blender_Suzanne2.jpg", "6c0777ab795b888703857312916bd6275e04a79e55f84f00c5b8cfdb60cbaf40"},
      {"aero1.jpg", "d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef"},
      {"aero3.jpg", "1c407146f8762b3b14a7953ff9bc4c01ed64c467d7277122e769bf7e816017a4"},
      {"basketball1.png", "ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6"},
      {"basketball2.png", "b3047772e0dc6c9d83c26f64894ca1a897f799f855c5574ac24b2ef934c2978e"},
      {"rubberwhale1.png", "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796"},
      {"rubberwhale2.png", "ee309a00d47b837b322ea5d9128775e0c46869b8014376286ba316a073d293ac"},
      {"ela_original.jpg", "b55798b35e2dcb24675f0865a2442d0e4887eeb6aff322ecb1968d936cc23e7f"},
      {"ela_modified.jpg", "dadebbf9714f269aea5baca2de8bfa7c01c26f867dbfbd6502836bb8d95efc1d"},
      {"left.jpg", "fb314330c3eb0a81651c682803e73b348898157267fbc37c4c2c07d1b3a8e321"},
      {"right.jpg", "20972954be263a99194d1373d9a5cd8d2dc92acf69b55470b6951f3b3475017f"},
      {"left01.jpg", "9621899098adffa1440c8264606bb7be535ccfd9ad126ae8e0bd9b0c5a5b8676"},
      {"right01.jpg", "94a160342fade4d0c4d2e94b8cb6c1e144a6e7682389d2991257e3a28625cb2d"},
      {"left06.jpg", "1cb164db61b3bd52f58a7e9340bb27c5e0278895bc80b6f292fba5cf9bccc4a1"},
      {"right06.jpg", "874b60edc8a53da477c6ee393184a1aafdc83ceaedcb4d0535f7c482d1c80e76"},
      {"imageTextN.png", "78e5141dea1ad97e7d3d903de47fe95e9031e8f559bf14179f7e1e539cb1f94f"},
      {"imageTextR.png", "6a4adfe5e08abd805a9989e5cbe605074001a1566840b24189b0285c0246f700"},
      {"apple.jpg", "e86879de3d9a807dedc742a8f464f39e6b74bbb531a1fba3583155d94997d1cd"},
      {"baboon.jpg", "1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f"},
      {"building.jpg", "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07"},
      {"butterfly.jpg", "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8"},
      {"fruits.jpg", "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1"},
      {"home.jpg", "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2"},
      {"messi5.jpg", "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9"},
      {"orange.jpg", "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079"},
      {"starry_night.jpg", "accda7a19a90f22a4a922fdc8c230167d7abf5f80882171e2cee125c5f12481d"},
      {"stuff.jpg", "21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5"},
      {"sudoku.png", "000cf81b7ce795013ae02bc9dfb0952aa34153c8c0e7fc99c81918e0738d1f09"},
      {"smarties.png", "ad3f751c053fdcf432687c1bc0e56a61a9119d2bb2ae29365f8aa6534fc77417"},
      {"board.jpg", "4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f"},
      {"chicky_512.png", "4d2cf040de084fd3f34d5e3f96f1251faaa4787c1ac3b548fec5809a0d01854e"},
      {"HappyFish.jpg", "ade5b67347d7f89b1539c93843f3f7178782a7e34eb1fe586f4a785c3e60a432"},
      {"pic1.png", "0244e20a34fa2d30c60e60928d6d71f89d32e0e0266b4644980798cc2368765a"},
      {"pic3.png", "1e2fe4632c0d5350d48525cc88a01a0764d9043d51a4110309b999eb79297db0"},
      {"pic5.png", "fa1f0dcc715867c5c8684f53d29ed2bfa013f8669aa1f73864fb7d315638a02b"},
      {"squirrel_cls.jpg", "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b"},
      {"text_defocus.jpg", "ffea13e23e2bdce60e50e43e5950d76d542a61a820c03c28fbb8f11b26edfdb6"},
      {"blox.jpg", "11115aa2cac174b7b01f907196e077ce19dd164145b82dd68129f92bdcae6884"},
      {"cards.png", "3721e83d1d54b1c2867cc9924f06112dba28cb7a54149938ad065999dec39235"},
      {"licenseplate_motion.jpg", "ea6fa9cea75df91bec656d1d3b903111a9c0708c6a3b88f405a5156de38ff9d6"},
      {"left02.jpg", "052e700bbcc865c112958ec2ea105cb1bce4deca50ac8d6efae13adca9df7a2c"},
      {"right04.jpg", "d5874ff3d948dbb673beb035dd70aef5e517119ff626ecdfd612fdd6a1eec32e"},
  };
  return kPool;
}

const std::vector<std::pair<std::string, std::string>>& demo_pairs() {
  // The first 26 pool files are 13 pairs, query first.
  static const std::vector<std::pair<std::string, std::string>> kPairs = [] {
    std::vector<std::pair<std::string, std::string>> p;
    for (size_t i = 0; i + 1 < 26; i += 2) p.emplace_back(demo_pool()[i].name, demo_pool()[i + 1].name);
    return p;
  }();
  return kPairs;
}

std::vector<std::string> stage_demo_pool(const std::string& pool_dir, const std::string& out_dir) {
  std::vector<std::string> out;
  for (const PoolImage& img : demo_pool()) {
    const std::string dst = (fs::path(out_dir) / img.name).string();
    std::error_code ec;
    if (fs::exists(dst, ec) && sha256_file(dst) == img.sha256) {
      out.push_back(dst);
      continue;
    }
    const std::string src = (fs::path(pool_dir) / img.name).string();
    if (!fs::exists(src, ec))
      fail("{}: missing; the demo pool is the sample images of Debian's opencv-doc package "
           "(apt-get install opencv-doc)",
           src);
    const std::string bytes = read_file(src);
    if (sha256_hex(bytes) != img.sha256)
      fail("{}: sha256 differs from the pinned {} (another opencv-doc version?)", src, img.sha256);
    write_file_atomic(dst, bytes);
    out.push_back(dst);
  }
  return out;
}

datasets::RetrievalSet write_demo_pairs_set(const std::string& pool_folder) {
  datasets::RetrievalSet set;
  set.name = "demo-pairs";
  set.protocol = "default";
  set.root = pool_folder;
  set.crop_queries = false;
  set.source = (fs::path(pool_folder) / "gnd.json").string();
  const auto& pairs = demo_pairs();
  for (const auto& pair : pairs) set.db.push_back(pair.second);
  for (size_t i = 2 * pairs.size(); i < demo_pool().size(); ++i)
    set.db.push_back(demo_pool()[i].name);
  for (size_t i = 0; i < pairs.size(); ++i)
    set.queries.push_back({pairs[i].first, std::nullopt, {static_cast<int64_t>(i)}, {}, ""});
  set.meta = {{"source", "Debian opencv-doc 4.6.0 sample images: natural view pairs"},
              {"pairs", pairs.size()}};
  set.Check();
  datasets::write_gnd_json(set, set.source);
  return set;
}

}  // namespace repbench::demo
