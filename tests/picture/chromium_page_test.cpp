// The service map's page (picture/graph_picture.h, `graph -o html`) in a real browser: Debian's
// headless Chromium (headless_chromium.h) loads the example map's page (example_map.h) from a
// file, and the test checks two things.
//
// No console error: nothing is logged by the page or about it. Every message of the DevTools
// protocol's Runtime domain (console calls, uncaught exceptions) and Log domain (what the browser
// itself reports: a Content-Security-Policy violation, a resource refused or not found) counts.
//
// Every vertex's label is shown: for each line of each label (a <text> of its <g class="node">),
// the DOM gives its box, which must lie inside the viewport (1600 × 1200 CSS pixels); its text must
// be visible (computed visibility, display, opacity) with nothing on top of it (elementFromPoint
// at its centre lies in the vertex's own group); and what the screenshot shows in that box must
// read as the line: the box is captured (Page.captureScreenshot clipped to it, at 3× scale) and
// read back by OCR (Debian's tesseract-ocr, one line of text), which must give the line's exact
// text. The OCR is what catches a label drawn but not seen (in its background's colour, covered,
// clipped, in a font that has no glyphs); the example's labels are plain ASCII words and ports so
// that it reads them reliably.
//
// A second page, the same with one label painted in its background's colour and an image from
// 127.0.0.1 that the page's policy refuses, shows the check failing on exactly those two.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "example_map.h"
#include "headless_chromium.h"
#include "picture/graph_picture.h"
#include "support/files.h"
#include "support/process.h"
#include "util/base64.h"

namespace socksnap::test {
namespace {

constexpr int kWidth = 1600;
constexpr int kHeight = 1200;

// The example map's labels, line by line, by the vertex's <title> (its index in the map).
const std::map<std::string, std::vector<std::string>> kLabels = {
    {"v0", {"kube-dns", ":53/UDP"}},
    {"v1", {"cart", ":80/TCP"}},
    {"v2", {"redis", ":6379/TCP"}},
    {"v3", {"Deployment/coredns", ":53/TCP :53/UDP"}},
    {"v4", {"Deployment/cart", ":8080/TCP"}},
    {"v5", {"Deployment/frontend", ":8080/TCP"}},
    {"v6", {"StatefulSet/redis", ":6379/TCP"}},
    {"v7", {"world"}},
};

struct PageReport {
  std::vector<std::string> console;           // every message logged
  std::map<std::string, std::string> unseen;  // a label's line → why it is not seen
};

// Each label line's text, box and visibility, as the page lays them out.
constexpr const char* kLabelBoxes = R"js((() => {
  const lines = [];
  for (const g of document.querySelectorAll('g.node')) {
    const title = g.querySelector('title').textContent;
    for (const t of g.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      const s = getComputedStyle(t);
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      lines.push({title, text: t.textContent, x: r.left, y: r.top, width: r.width,
                  height: r.height, visible: s.visibility === 'visible' &&
                  s.display !== 'none' && Number(s.opacity) > 0,
                  onTop: hit !== null && g.contains(hit)});
    }
  }
  return {lines, width: innerWidth, height: innerHeight};
})())js";

std::string ocr_line(const TempDir& dir, const std::string& png, int index) {
  std::string path = dir.write("line-" + std::to_string(index) + ".png", png);
  CommandResult read = run_command({"tesseract", path, "stdout", "--psm", "7", "-l", "eng"},
                                   {{"OMP_THREAD_LIMIT", "1"}});
  if (read.exit_code != 0) return "(tesseract failed: " + read.err + ")";
  std::string text = read.out;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

PageReport check_page(HeadlessChromium& browser, const TempDir& dir, const std::string& file) {
  std::string tab = browser.open_tab();
  browser.call(
      "Emulation.setDeviceMetricsOverride",
      {{"width", kWidth}, {"height", kHeight}, {"deviceScaleFactor", 1}, {"mobile", false}}, tab);
  browser.call("Page.enable", {}, tab);
  browser.call("Runtime.enable", {}, tab);
  browser.call("Log.enable", {}, tab);
  browser.call("Page.navigate", {{"url", "file://" + file}}, tab);
  browser.wait_for_event("Page.loadEventFired", tab);
  // Two frames later the page has been painted.
  browser.call(
      "Runtime.evaluate",
      {{"expression", "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"},
       {"awaitPromise", true}},
      tab);
  nlohmann::json layout =
      browser.call("Runtime.evaluate", {{"expression", kLabelBoxes}, {"returnByValue", true}},
                   tab)["result"]["value"];

  PageReport report;
  std::map<std::string, std::vector<std::string>> page_labels;
  int index = 0;
  for (const nlohmann::json& line : layout.at("lines")) {
    std::string text = line.at("text");
    page_labels[line.at("title")].push_back(text);
    double x = line.at("x"), y = line.at("y"), width = line.at("width"), height = line.at("height");
    if (width <= 0 || height <= 0 || x < 0 || y < 0 || x + width > layout.at("width") ||
        y + height > layout.at("height")) {
      report.unseen[text] = "outside the viewport: " + line.dump();
      continue;
    }
    if (!line.at("visible").get<bool>() || !line.at("onTop").get<bool>()) {
      report.unseen[text] = "hidden or covered: " + line.dump();
      continue;
    }
    constexpr double kMargin = 3;
    nlohmann::json clip = {{"x", x - kMargin},
                           {"y", y - kMargin},
                           {"width", width + 2 * kMargin},
                           {"height", height + 2 * kMargin},
                           {"scale", 3}};
    nlohmann::json shot =
        browser.call("Page.captureScreenshot", {{"format", "png"}, {"clip", clip}}, tab);
    Result<std::string> png = base64_decode(shot.at("data").get<std::string>());
    if (!png) throw std::runtime_error("the screenshot's base64: " + png.error().message());
    std::string read = ocr_line(dir, *png, index++);
    if (read != text) report.unseen[text] = "the screenshot reads \"" + read + "\"";
  }
  for (const auto& [title, lines] : kLabels) {
    if (page_labels[title] != lines) {
      for (const std::string& line : lines)
        report.unseen[line] = "not in the page's vertex " + title;
    }
  }
  if (page_labels.size() != kLabels.size()) {
    report.unseen["(vertices)"] = std::to_string(page_labels.size()) + " vertices in the page";
  }

  for (const nlohmann::json& event : browser.events()) {
    if (event.value("sessionId", "") != tab) continue;
    std::string method = event.value("method", "");
    if (method == "Runtime.consoleAPICalled" || method == "Runtime.exceptionThrown" ||
        method == "Log.entryAdded") {
      report.console.push_back(event.dump());
    }
  }
  return report;
}

std::string page_of_example() {
  Result<std::string> html = graph_html(
      example_service_map(), {"socksnap graph", "2025-06-01 12:00:00 UTC", "the example map"});
  if (!html) throw std::runtime_error(html.error().message());
  return *html;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("no \"" + from + "\" in the page");
  return text.replace(at, from.size(), to);
}

class ChromiumPageTest : public testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "root: Chromium runs in a network namespace of its own";
  }
};

TEST_F(ChromiumPageTest, RendersWithoutConsoleMessagesAndShowsEveryLabel) {
  TempDir dir("socksnap-picture");
  std::string page = dir.write("map.html", page_of_example());
  HeadlessChromium browser(dir.path(), kWidth, kHeight);
  PageReport report = check_page(browser, dir, page);
  EXPECT_EQ(report.console, std::vector<std::string>{});
  EXPECT_EQ(report.unseen, (std::map<std::string, std::string>{}));
}

// The same check on a page spoiled twice: it must name exactly what was spoiled.
TEST_F(ChromiumPageTest, TheCheckSeesAHiddenLabelAndARefusedImage) {
  TempDir dir("socksnap-picture");
  std::string html = page_of_example();
  // The frontend's name in its box's own fill colour (kKindStyles' workload colour).
  html = replaced(html, R"(font-size="14.00">Deployment/frontend</text>)",
                  R"(font-size="14.00" fill="#cfe2f3">Deployment/frontend</text>)");
  // An image the policy (default-src 'none') refuses; were it fetched, it would go to the
  // loopback of the browser's own network namespace, which is down.
  html = replaced(html, "<body>\n",
                  "<body>\n<img src=\"http://127.0.0.1:9/refused.png\" alt=\"\"/>\n");
  std::string page = dir.write("spoiled.html", html);
  HeadlessChromium browser(dir.path(), kWidth, kHeight);
  PageReport report = check_page(browser, dir, page);
  ASSERT_EQ(report.console.size(), 1U) << testing::PrintToString(report.console);
  EXPECT_NE(report.console[0].find("Content Security Policy"), std::string::npos)
      << report.console[0];
  EXPECT_NE(report.console[0].find("http://127.0.0.1:9/refused.png"), std::string::npos)
      << report.console[0];
  ASSERT_EQ(report.unseen.size(), 1U) << testing::PrintToString(report.unseen);
  EXPECT_EQ(report.unseen.begin()->first, "Deployment/frontend");
}

}  // namespace
}  // namespace socksnap::test
