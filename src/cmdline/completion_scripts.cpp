// The shells' side of completion (see cli/completion.h): each script asks the program for the
// candidates and applies the directive as Cobra's scripts do. Written for socksnap, in the
// spirit of Cobra's bash V2, zsh and fish scripts: no eval of what is typed (the words go to
// the program as they are), and bash needs no bash-completion package.
#include <fmt/format.h>

#include <string>

#include "cmdline/completion.h"

namespace socksnap {
namespace {

// @NAME@: the program; @FN@: it as a shell function name.
constexpr std::string_view kBash = R"BASH(# bash completion for @NAME@. Load it with
#   source <(@NAME@ completion bash)
# or install it for everyone: @NAME@ completion bash > /etc/bash_completion.d/@NAME@
# It asks @NAME@ itself: `@NAME@ __complete WORD... CURRENT` prints one candidate a line (a tab,
# then its description) and :DIRECTIVE last (Cobra's ShellCompDirective bits).

__@FN@_complete() {
    local IFS=$' \t\n' tab=$'\t'
    COMPREPLY=()
    # The words as @NAME@ takes them: bash splits --output=json and src:x at = and :
    # (COMP_WORDBREAKS); put together again what was typed without a blank between.
    local -a words=()
    local i at=0 word gap
    for ((i = 0; i <= COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        gap=0
        while ((at < ${#COMP_LINE})) && [[ ${COMP_LINE:at:1} == [[:space:]] ]]; do
            ((at++))
            gap=1
        done
        [[ ${COMP_LINE:at:${#word}} == "$word" ]] && ((at += ${#word}))
        if ((i > 0 && gap == 0)); then
            words[-1]+=$word
        else
            words+=("$word")
        fi
    done
    local cur=${words[-1]}
    local program=${words[0]/#\~/$HOME}
    type -P -- "$program" >/dev/null 2>&1 || program=@NAME@

    local out
    out=$("$program" __complete "${words[@]:1}" 2>/dev/null) || return
    local -a lines
    mapfile -t lines <<<"$out"
    local directive=0
    if ((${#lines[@]} > 0)) && [[ ${lines[-1]} =~ ^:[0-9]+$ ]]; then
        directive=${lines[-1]:1}
        unset 'lines[-1]'
    fi
    ((directive & 1)) && return
    ((directive & 2)) && compopt -o nospace 2>/dev/null
    ((directive & 4)) && compopt +o default 2>/dev/null
    ((directive & 32)) && compopt -o nosort 2>/dev/null

    # --option=VALUE: the program answers values; bash completes what follows the =.
    [[ $cur == -*=* ]] && cur=${cur#*=}
    local line value
    if ((directive & 8)); then
        # The candidates are file extensions: the files that have one, and directories.
        compopt -o filenames 2>/dev/null
        while IFS= read -r value; do
            for line in "${lines[@]}"; do
                [[ -d $value || $value == *."$line" ]] && COMPREPLY+=("$value") && break
            done
        done < <(compgen -f -- "$cur")
        return
    fi
    if ((directive & 16)); then
        # Directories only; in the one named, if one is.
        compopt -o filenames 2>/dev/null
        if [[ -n ${lines[0]-} ]]; then
            mapfile -t COMPREPLY < <(cd -- "${lines[0]}" 2>/dev/null && compgen -d -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        fi
        return
    fi

    local longest=0
    local -a matches=()
    for line in "${lines[@]}"; do
        value=${line%%"$tab"*}
        [[ -n $value && $value == "$cur"* ]] || continue
        matches+=("$line")
        ((${#value} > longest)) && longest=${#value}
    done
    if ((${#matches[@]} == 1)) || [[ ${COMP_TYPE-} == 37 || ${COMP_TYPE-} == 42 ]]; then
        # One candidate, or candidates inserted one by one or all at once: values only.
        for line in "${matches[@]}"; do COMPREPLY+=("${line%%"$tab"*}"); done
    else
        # A list to show: each value with its description, as wide as the terminal allows.
        local desc width=${COLUMNS:-80} room
        for line in "${matches[@]}"; do
            value=${line%%"$tab"*}
            if [[ $line == *"$tab"* ]]; then
                desc=${line#*"$tab"}
                printf -v value '%-*s' "$longest" "$value"
                room=$((width - longest - 4))
                if ((room > 8)); then
                    ((${#desc} > room)) && desc="${desc:0:room-1}…"
                    value+="  ($desc)"
                fi
            fi
            COMPREPLY+=("$value")
        done
    fi
    # bash replaces only what follows the last = or : of the word: the candidates lose what
    # comes before.
    local head=${cur%"${cur##*[=:]}"}
    if [[ -n $head && $COMP_WORDBREAKS == *"${head: -1}"* ]]; then
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$head"}; done
    fi
}

complete -o default -F __@FN@_complete @NAME@
)BASH";

constexpr std::string_view kZsh = R"ZSH(#compdef @NAME@
# zsh completion for @NAME@. Load it with
#   source <(@NAME@ completion zsh)
# (after `autoload -U compinit; compinit`), or save it as _@NAME@ in a folder of $fpath.
# It asks @NAME@ itself: `@NAME@ __complete WORD... CURRENT` prints one candidate a line (a tab,
# then its description) and :DIRECTIVE last (Cobra's ShellCompDirective bits).
compdef _@NAME@ @NAME@

_@NAME@() {
    local -a lines completions options
    local out line value directive=0 prefix=
    local cur=${words[CURRENT]} program=${words[1]}
    whence -p -- "$program" >/dev/null 2>&1 || program=@NAME@
    out=$("$program" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    lines=("${(@f)out}")
    if [[ ${lines[-1]} == :<-> ]]; then
        directive=${lines[-1]#:}
        lines[-1]=()
    fi
    (( directive & 1 )) && return 1
    # --option=VALUE: the program answers values; zsh must keep the option in front.
    [[ $cur == -*=* ]] && prefix="${cur%%=*}="
    (( ${#prefix} )) && options+=(-P "$prefix")
    if (( directive & 8 )); then
        local -a globs
        for value in $lines; do globs+=(-g "*.$value"); done
        _files $globs $options
        return
    fi
    if (( directive & 16 )); then
        if [[ -n ${lines[1]} ]]; then
            _files -/ -W "${lines[1]}" $options
        else
            _files -/ $options
        fi
        return
    fi
    for line in $lines; do
        [[ -n $line ]] || continue
        value=${line%%$'\t'*}
        value=${value//:/\\:}
        if [[ $line == *$'\t'* ]]; then
            completions+=("$value:${line#*$'\t'}")
        else
            completions+=("$value")
        fi
    done
    (( directive & 2 )) && options+=(-S '')
    (( directive & 32 )) && options=(-V @NAME@ $options)
    if (( ${#completions} )); then
        _describe 'completions' completions $options && return 0
    fi
    (( directive & 4 )) && return 1
    _files ${prefix:+-P "$prefix"}
}

# When loaded from $fpath, this file is the body of _@NAME@: run it.
if [[ ${funcstack[1]} == _@NAME@ ]]; then
    _@NAME@ "$@"
fi
)ZSH";

constexpr std::string_view kFish = R"FISH(# fish completion for @NAME@. Load it with
#   @NAME@ completion fish | source
# or save it as ~/.config/fish/completions/@NAME@.fish
# It asks @NAME@ itself: `@NAME@ __complete WORD... CURRENT` prints one candidate a line (a tab,
# then its description) and :DIRECTIVE last (Cobra's ShellCompDirective bits).

function __@FN@_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l program $words[1]
    command -q -- $program; or set program @NAME@
    set -l out (command $program __complete $words[2..-1] $cur 2>/dev/null); or return
    set -l directive 0
    if string match -qr -- '^:[0-9]+$' $out[-1]
        set directive (string sub -s 2 -- $out[-1])
        set -e out[-1]
    end
    test (math "bitand($directive, 1)") -ne 0; and return
    # --option=VALUE: the program answers values; fish wants the whole word.
    set -l prefix ''
    set -l typed $cur
    if string match -qr -- '^-[^=]*=' $cur
        set prefix (string replace -r -- '=.*' '=' $cur)
        set typed (string replace -r -- '^[^=]*=' '' $cur)
    end
    if test (math "bitand($directive, 8)") -ne 0
        for extension in $out
            __fish_complete_suffix .$extension
        end
        return
    end
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories $typed
        return
    end
    set -l printed 0
    for line in $out
        test -n "$line"; or continue
        printf '%s%s\n' $prefix $line
        set printed 1
    end
    if test $printed -eq 0; and test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path $typed
    end
end

complete -c @NAME@ -f -a '(__@FN@_complete)'
)FISH";

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

Result<std::string> completion_script(std::string_view shell, std::string_view program) {
  std::string_view script;
  if (shell == "bash") {
    script = kBash;
  } else if (shell == "zsh") {
    script = kZsh;
  } else if (shell == "fish") {
    script = kFish;
  } else {
    return plain_error(fmt::format("completion: '{}' is not bash, zsh or fish", shell));
  }
  std::string function(program);
  for (char& c : function) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_')) c = '_';
  }
  return replace_all(replace_all(std::string(script), "@FN@", function), "@NAME@", program);
}

}  // namespace socksnap
