#include "cmdline/completion.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <set>

#include "model/states.h"
#include "select/columns.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace socksnap {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool takes_value(const CLI::Option& option) {
  return option.get_expected_max() > 0;
}

bool repeatable(const CLI::Option& option) {
  return option.get_items_expected_max() > 1;
}

bool hidden(const CLI::Option& option) {
  return option.get_group().empty() || !option.nonpositional();
}

// The command's options, then those of the commands it falls through to.
std::vector<const CLI::Option*> options_of(const CLI::App& command) {
  std::vector<const CLI::Option*> out;
  for (const CLI::App* app = &command; app != nullptr;
       app = app->get_fallthrough() ? app->get_parent() : nullptr) {
    for (const CLI::Option* option : app->get_options()) out.push_back(option);
  }
  return out;
}

const CLI::Option* long_option(const CLI::App& command, std::string_view name) {
  for (const CLI::Option* option : options_of(command)) {
    const auto& names = option->get_lnames();
    if (std::find(names.begin(), names.end(), name) != names.end()) return option;
  }
  return nullptr;
}

const CLI::Option* short_option(const CLI::App& command, char name) {
  for (const CLI::Option* option : options_of(command)) {
    const auto& names = option->get_snames();
    if (std::find(names.begin(), names.end(), std::string(1, name)) != names.end()) return option;
  }
  return nullptr;
}

std::vector<const CLI::App*> subcommands_of(const CLI::App& command) {
  std::vector<const CLI::App*> out;
  for (const CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) out.push_back(sub);
  }
  return out;
}

const CLI::App* subcommand_named(const CLI::App& command, std::string_view name) {
  for (const CLI::App* sub : subcommands_of(command)) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

Completions complete_value(const CLI::Option& option, std::string_view typed,
                           const TypedWords& words, const CompletionSpec& spec) {
  if (!option.get_lnames().empty()) {
    auto it = spec.values.find(option.get_lnames().front());
    if (it != spec.values.end()) return it->second(typed, words);
  }
  const std::string& text = option.get_option_text();
  if (text.find("DIR") != std::string::npos) return {{}, kCompletionFilterDirs};
  if (text.find("FILE") != std::string::npos || text.find("PATH") != std::string::npos) {
    return {{}, kCompletionDefault};
  }
  return {{}, kCompletionNoFileComp};
}

Completions complete_option_names(std::string_view typed, const TypedWords& words) {
  Completions out;
  std::set<std::string, std::less<>> offered;  // a subcommand's -o hides its parent's
  for (const CLI::Option* option : options_of(*words.command)) {
    if (hidden(*option)) continue;
    bool shadowed = false;
    for (const auto& name : option->get_lnames()) shadowed |= !offered.insert(name).second;
    if (shadowed) continue;
    bool given = std::any_of(words.options.begin(), words.options.end(),
                             [&](const auto& o) { return o.first == option; });
    if (given && !repeatable(*option)) continue;
    for (const auto& name : option->get_lnames()) {
      std::string flag = "--" + name;
      if (starts_with(flag, typed)) out.items.push_back({flag, option->get_description()});
    }
    for (const auto& name : option->get_snames()) {
      std::string flag = "-" + name;
      if (starts_with(flag, typed)) out.items.push_back({flag, option->get_description()});
    }
  }
  return out;
}

// Whether `text` is what a shell takes as one word that prints as itself: valid UTF-8 without
// blanks, control or layout characters (bidirectional overrides and the like).
bool is_clean_word(std::string_view text) {
  for (const char* p = text.data(); p < text.data() + text.size();) {
    Utf8Char c = decode_utf8(p, text.data() + text.size());
    if (c.length == 0 || c.code_point == ' ' || is_control(c.code_point) ||
        is_layout_control(c.code_point)) {
      return false;
    }
    p += c.length;
  }
  return true;
}

// A description on one line: control and layout characters and invalid bytes become spaces.
std::string clean_description(std::string_view text) {
  std::string out;
  for (const char* p = text.data(); p < text.data() + text.size();) {
    Utf8Char c = decode_utf8(p, text.data() + text.size());
    if (c.length == 0 || is_control(c.code_point) || is_layout_control(c.code_point)) {
      out += ' ';
      p += c.length == 0 ? 1 : c.length;
      continue;
    }
    out.append(p, c.length);
    p += c.length;
  }
  return std::string(trim(out));
}

std::vector<std::string> column_names() {
  std::vector<std::string> names;
  for (const auto& column : all_columns()) names.emplace_back(column.name);
  return names;
}

// The last item of a comma-separated list, each item optionally led by one of `signs`.
Completions list_item(std::string_view typed, const std::vector<std::string>& names,
                      std::string_view signs) {
  size_t comma = typed.rfind(',');
  std::string_view head = comma == std::string_view::npos ? "" : typed.substr(0, comma + 1);
  std::string_view item = typed.substr(head.size());
  std::string_view sign;
  if (!item.empty() && signs.find(item.front()) != std::string_view::npos) {
    sign = item.substr(0, 1);
    item.remove_prefix(1);
  }
  std::set<std::string, std::less<>> listed;
  for (auto part : split(head, ',')) {
    if (!part.empty() && signs.find(part.front()) != std::string_view::npos) part.remove_prefix(1);
    listed.insert(to_lower(part));
  }
  Completions out;
  out.directive = kCompletionNoSpace | kCompletionNoFileComp;
  for (const auto& name : names) {
    if (!starts_with(name, item) || listed.count(to_lower(name)) != 0) continue;
    out.items.push_back({fmt::format("{}{}{}", head, sign, name), ""});
  }
  return out;
}

Completions complete_protocol(std::string_view typed, const TypedWords&) {
  static const std::vector<Completion> kProtocols = {
      {"inet", "TCP, UDP and UDP-Lite (the default)"},
      {"all", "TCP, UDP, UDP-Lite and unix sockets"},
      {"tcp", "TCP only"},
      {"udp", "UDP only"},
      {"udplite", "UDP-Lite only"},
      {"unix", "unix sockets only"}};
  return complete_fixed(typed, kProtocols);
}

Completions complete_backend(std::string_view typed, const TypedWords&) {
  return complete_fixed(typed, {{"auto", "BPF iterators where they can run, else netlink"},
                                {"bpf", "BPF iterators only"},
                                {"netlink", "sock_diag and /proc only"}});
}

Completions complete_output(std::string_view typed, const TypedWords& words) {
  if (words.command_name == "graph") {
    return complete_fixed(typed, {{"table", "the edges, for a terminal (the default)"},
                                  {"json", R"({"nodes":[...],"edges":[...]} on one line)"},
                                  {"jsonpretty", "the JSON, indented"},
                                  {"dot", "Graphviz's DOT"},
                                  {"mermaid", "a Mermaid flowchart"},
                                  {"svg", "the map drawn (Graphviz)"},
                                  {"html", "a page: the map drawn and its tables"}});
  }
  if (words.command_name == "audit") {
    return complete_fixed(typed, {{"table", "the findings, for a terminal (the default)"},
                                  {"json", "the findings and their sockets on one line"},
                                  {"jsonpretty", "the JSON, indented"},
                                  {"sarif", "SARIF 2.1.0, for code-scanning dashboards"},
                                  {"markdown", "a report: findings, listeners, connections"}});
  }
  constexpr std::string_view kColumnsIs = "columns=";
  if (starts_with(typed, kColumnsIs)) {
    Completions out = list_item(typed.substr(kColumnsIs.size()), column_names(), "+-");
    for (auto& item : out.items) item.value.insert(0, kColumnsIs);
    return out;
  }
  if (!typed.empty() && (typed.front() == '+' || typed.front() == '-')) {
    return list_item(typed, column_names(), "+-");
  }
  static const std::vector<Completion> kFormats = {
      {"columns", "the default columns"},
      {"columns=", "these columns (COL,...), or the defaults with +COL and -COL"},
      {"json", "one JSON array on one line"},
      {"jsonpretty", "the JSON array, indented"},
      {"yaml", "a YAML list"}};
  Completions out = complete_fixed(typed, kFormats);
  if (out.items.size() == 1 && out.items.front().value.back() == '=') {
    out.directive |= kCompletionNoSpace;
  }
  return out;
}

std::vector<std::string> status_names() {
  std::set<std::string> names;
  for (Protocol protocol : {Protocol::kTcp, Protocol::kUdp, Protocol::kUnix}) {
    // Bound-inactive sockets show as CLOSE: its number has no name of its own to filter by.
    for (unsigned state = 0; state < kTcpBoundInactive; ++state) {
      std::string_view name = status_name(protocol, static_cast<uint8_t>(state));
      if (!name.empty()) names.emplace(name);
    }
  }
  return {names.begin(), names.end()};
}

Completions complete_filter(std::string_view typed, const TypedWords&) {
  size_t colon = typed.find(':');
  Completions out;
  if (colon == std::string_view::npos) {
    out.directive = kCompletionNoSpace | kCompletionNoFileComp;
    for (const auto& name : column_names()) {
      if (starts_with(name, typed)) out.items.push_back({name + ":", ""});
    }
    return out;
  }
  // Values of the columns that have few: COL:VALUE or COL:!VALUE.
  std::string_view head = typed.substr(0, colon + 1);
  std::string_view value = typed.substr(colon + 1);
  std::string_view negation = starts_with(value, "!") ? "!" : "";
  value.remove_prefix(negation.size());
  const Column* column = find_column(typed.substr(0, colon));
  std::vector<std::string> values;
  if (column == find_column("protocol")) {
    values = {"TCP", "UDP", "UDPLITE", "UNIX"};
  } else if (column == find_column("status")) {
    values = status_names();
  } else if (column == find_column("direction")) {
    values = {"listen", "inbound", "outbound", "local"};
  } else if (column == find_column("type")) {
    values = {"stream", "dgram", "seqpacket"};
  }
  for (const auto& v : values) {
    if (starts_with(v, value)) out.items.push_back({fmt::format("{}{}{}", head, negation, v), ""});
  }
  return out;
}

Completions complete_level(std::string_view typed, const TypedWords&) {
  return complete_fixed(typed, {{"workload", "a pod's controller (Deployment, StatefulSet, ...)"},
                                {"pod", "a pod"},
                                {"container", "a container"},
                                {"process", "a process (its command) in its container"},
                                {"netns", "a network namespace"}});
}

Completions complete_sort(std::string_view typed, const TypedWords&) {
  return list_item(typed, column_names(), "-");
}

Completions complete_by(std::string_view typed, const TypedWords&) {
  return list_item(typed, column_names(), "");
}

}  // namespace

std::string TypedWords::value_of(std::string_view name) const {
  std::string value;
  for (const auto& [option, given] : options) {
    const auto& names = option->get_lnames();
    if (std::find(names.begin(), names.end(), name) != names.end()) value = given;
  }
  return value;
}

CompletionSpec standard_completions() {
  CompletionSpec spec;
  spec.values["protocol"] = complete_protocol;
  spec.values["backend"] = complete_backend;
  spec.values["output"] = complete_output;
  spec.values["filter"] = complete_filter;
  spec.values["sort"] = complete_sort;
  spec.values["level"] = complete_level;
  spec.values["by"] = complete_by;
  return spec;
}

Completions complete_summary_output(std::string_view typed, const TypedWords&) {
  return complete_fixed(typed, {{"columns", "a table of the groups (the default)"},
                                {"json", "one JSON array on one line"},
                                {"jsonpretty", "the JSON array, indented"},
                                {"yaml", "a YAML list"}});
}

Completions complete_fixed(std::string_view typed, const std::vector<Completion>& choices) {
  Completions out;
  for (const auto& choice : choices) {
    if (starts_with(choice.value, typed)) out.items.push_back(choice);
  }
  return out;
}

Completions complete_list_item(std::string_view typed, const std::vector<std::string>& names) {
  return list_item(typed, names, "");
}

Completions complete_words(const CLI::App& app, const std::vector<std::string>& words,
                           const CompletionSpec& spec) {
  std::string_view current = words.empty() ? std::string_view() : words.back();
  size_t before = words.empty() ? 0 : words.size() - 1;
  TypedWords typed;
  typed.command = &app;
  bool only_positionals = false;
  for (size_t i = 0; i < before; ++i) {
    const std::string& word = words[i];
    if (only_positionals || word.size() < 2 || word.front() != '-') {
      const CLI::App* sub = only_positionals || !typed.positionals.empty()
                                ? nullptr
                                : subcommand_named(*typed.command, word);
      if (sub != nullptr) {
        typed.command = sub;
        typed.command_name = word;
      } else {
        typed.positionals.push_back(word);
      }
      continue;
    }
    if (word == "--") {
      only_positionals = true;
      continue;
    }
    if (starts_with(word, "--")) {
      size_t equals = word.find('=');
      const CLI::Option* option =
          long_option(*typed.command, std::string_view(word).substr(2, equals - 2));
      if (option == nullptr) continue;  // unknown: left for the parser to refuse
      if (equals != std::string::npos) {
        typed.options.emplace_back(option, word.substr(equals + 1));
      } else if (!takes_value(*option)) {
        typed.options.emplace_back(option, "");
      } else if (i + 1 < before) {
        typed.options.emplace_back(option, words[++i]);
      } else {
        return complete_value(*option, current, typed, spec);  // the value is being typed
      }
      continue;
    }
    // -abc: flags, the last (or one in between) maybe taking the rest, or the next word.
    for (size_t k = 1; k < word.size(); ++k) {
      const CLI::Option* option = short_option(*typed.command, word[k]);
      if (option == nullptr) break;
      if (!takes_value(*option)) {
        typed.options.emplace_back(option, "");
        continue;
      }
      std::string rest = word.substr(k + 1);
      if (!rest.empty() && rest.front() == '=') rest.erase(0, 1);
      if (!rest.empty()) {
        typed.options.emplace_back(option, rest);
      } else if (i + 1 < before) {
        typed.options.emplace_back(option, words[++i]);
      } else {
        return complete_value(*option, current, typed, spec);
      }
      break;
    }
  }

  if (!only_positionals && starts_with(current, "-")) {
    size_t equals = current.find('=');
    if (starts_with(current, "--") && equals != std::string_view::npos) {
      // --option=VALUE: the value alone, as Cobra answers (the scripts keep the option).
      const CLI::Option* option = long_option(*typed.command, current.substr(2, equals - 2));
      if (option == nullptr || !takes_value(*option)) return {};
      return complete_value(*option, current.substr(equals + 1), typed, spec);
    }
    if (current.size() > 2 && current[1] != '-') {
      // -FVALUE: the value with the option in front.
      const CLI::Option* option = short_option(*typed.command, current[1]);
      if (option != nullptr && takes_value(*option)) {
        Completions out = complete_value(*option, current.substr(2), typed, spec);
        for (auto& item : out.items) item.value.insert(0, current.substr(0, 2));
        return out;
      }
    }
    return complete_option_names(current, typed);
  }

  Completions out;
  if (typed.positionals.empty() && !only_positionals) {
    for (const CLI::App* sub : subcommands_of(*typed.command)) {
      if (starts_with(sub->get_name(), current)) {
        out.items.push_back({sub->get_name(), sub->get_description()});
      }
    }
  }
  if (auto it = spec.positionals.find(typed.command_name); it != spec.positionals.end()) {
    Completions more = it->second(current, typed);
    out.items.insert(out.items.end(), more.items.begin(), more.items.end());
    out.directive = more.directive;
  }
  return out;
}

std::string format_completions(const Completions& completions) {
  std::string out;
  for (const auto& item : completions.items) {
    if (item.value.empty() || !is_clean_word(item.value)) continue;
    out += item.value;
    std::string description = clean_description(item.description);
    if (!description.empty()) out += "\t" + description;
    out += '\n';
  }
  out += fmt::format(":{}\n", completions.directive);
  return out;
}

bool answer_completion_request(const CLI::App& app, int argc, const char* const* argv,
                               const CompletionSpec& spec) {
  if (argc < 2 || std::string_view(argv[1]) != "__complete") return false;
  std::vector<std::string> words(argv + 2, argv + argc);
  std::string text = format_completions(complete_words(app, words, spec));
  std::fwrite(text.data(), 1, text.size(), stdout);
  return true;
}

}  // namespace socksnap
