// Shell completion, the way Cobra programs (kubectl) do it, so that one implementation serves
// bash, zsh, fish and kubectl's plugin completion: the shell's script (completion_script) calls
// `PROGRAM __complete WORD... CURRENT` and the program prints one candidate a line, optionally
// followed by a tab and a description, then `:DIRECTIVE` (Cobra's ShellCompDirective bits).
// Options come from the programs' CLI11 definitions, so that new options complete by themselves;
// their values from the completers in a CompletionSpec. Parsing the words is pure.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace socksnap {

// Cobra's ShellCompDirective bits.
enum CompletionDirective : unsigned {
  kCompletionDefault = 0,        // the shell completes file names when nothing else matches
  kCompletionError = 1,          // complete nothing
  kCompletionNoSpace = 2,        // no space after the completion
  kCompletionNoFileComp = 4,     // no file names, even when nothing matches
  kCompletionFilterFileExt = 8,  // the candidates are file extensions to complete files of
  kCompletionFilterDirs = 16,    // directories only (in the directory named, if one)
  kCompletionKeepOrder = 32,     // keep the candidates' order
};

struct Completion {
  std::string value;
  std::string description;
};

struct Completions {
  std::vector<Completion> items;
  unsigned directive = kCompletionNoFileComp;
};

// The words before the one being completed, read against the options of the command they are
// for: which options were given (with their values) and the positional words.
struct TypedWords {
  const CLI::App* command = nullptr;  // the (sub)command the word being completed belongs to
  std::string command_name;           // "" for the program itself
  std::vector<std::pair<const CLI::Option*, std::string>> options;
  std::vector<std::string> positionals;

  // The last value given for the option named `name` ("kubeconfig"), or "".
  std::string value_of(std::string_view name) const;
};

// Completes what is typed of an option's value (or of a positional word).
using ValueCompleter = std::function<Completions(std::string_view typed, const TypedWords& words)>;

struct CompletionSpec {
  // By an option's first long name ("output"); options without one complete files where their
  // option text names a FILE or PATH, directories for a DIR, and nothing otherwise.
  std::map<std::string, ValueCompleter, std::less<>> values;
  // Positional words, by subcommand name ("" for the program itself).
  std::map<std::string, ValueCompleter, std::less<>> positionals;
};

// The completers of the options every front-end shares (add_selection_options): --protocol,
// -o/--output (formats, and column names after columns=, + or - and commas), -F/--filter
// (column names, then protocol and status values), --sort (column names), and a summary's --by
// (column names, comma-separated).
CompletionSpec standard_completions();

// A summary's -o: the formats only (--by chooses its columns).
Completions complete_summary_output(std::string_view typed, const TypedWords& words);

// The completions for `words`, what follows the program's name on the command line, the last
// being the word under completion (empty when a new word starts).
Completions complete_words(const CLI::App& app, const std::vector<std::string>& words,
                           const CompletionSpec& spec);

// Cobra's output. A candidate holding a control character or a blank (a name from an API
// server, say) is left out: a shell would take it for several, or print it; a description's
// control characters become spaces.
std::string format_completions(const Completions& completions);

// Whether argv asks for completions (`PROGRAM __complete ...`); then prints them for the rest
// of argv and returns true.
bool answer_completion_request(const CLI::App& app, int argc, const char* const* argv,
                               const CompletionSpec& spec);

// Candidates among `names` for the last item of a comma-separated list ("a,b,c"): each
// candidate is the list with that item completed; items already in the list are left out.
Completions complete_list_item(std::string_view typed, const std::vector<std::string>& names);

// The choices that start with `typed`.
Completions complete_fixed(std::string_view typed, const std::vector<Completion>& choices);

// The script that makes `shell` (bash, zsh or fish) complete `program` by asking it.
Result<std::string> completion_script(std::string_view shell, std::string_view program);

}  // namespace socksnap
