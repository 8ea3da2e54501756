# Bash completion for psi and psi-hub (installed as
# share/bash-completion/completions/psi and .../psi-hub, the same file).
#
# What it promises: it completes exactly what the program in hand says it
# takes, because it reads the program's own --help at completion time:
#   PROG <TAB>              the commands `PROG --help` lists
#   PROG CMD <TAB>          CMD's subcommands (psi audit, psi feed), else files
#   PROG CMD --<TAB>        the options `PROG CMD --help` prints
#   PROG CMD --opt <TAB>    directories for a DIR value, files for a FILE or
#                           PATH value, the choices of a value written a|b|c
# Nothing is generated at build time, so nothing can drift: a command or an
# option added to a program is completed as soon as that program prints it.
# A TAB costs one or two `--help` runs of the program (a few milliseconds; no
# network, no state read).

# _psi_complete_help PROG [WORD...]: the help text of PROG WORD... in REPLY.
_psi_complete_help() {
    REPLY=$("$@" --help 2>/dev/null) || REPLY=""
}

# _psi_complete_subcommands NAME HELP [PATH...]: the subcommand names HELP
# lists, as lines "  NAME PATH... SUB  what it does", one a line on stdout.
_psi_complete_subcommands() {
    local name=$1 help=$2 prefix line rest
    shift 2
    prefix="  $name"
    [ $# -gt 0 ] && prefix="$prefix $*"
    while IFS= read -r line; do
        [[ $line == "$prefix "* ]] || continue
        rest=${line#"$prefix "}
        rest=${rest%% *}
        [[ $rest =~ ^[a-z][a-z0-9-]*$ ]] && printf '%s\n' "$rest"
    done <<<"$help"
}

# _psi_complete_options HELP: "NAME VALUE" per option line of HELP (VALUE
# "-" for a flag); short names are listed as options of their own.
_psi_complete_options() {
    local help=$1 line re='^  (-([A-Za-z0-9]), |    )?--([a-z0-9][a-z0-9-]*)( ([^ ]+))?'
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        printf -- '--%s %s\n' "${BASH_REMATCH[3]}" "${BASH_REMATCH[5]:--}"
        [ -n "${BASH_REMATCH[2]}" ] && printf -- '-%s %s\n' "${BASH_REMATCH[2]}" "${BASH_REMATCH[5]:--}"
    done <<<"$help"
}

_psi_complete() {
    local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]} name help i word
    local -a path=() subs=()
    name=${prog##*/}
    _psi_complete_help "$prog"
    help=$REPLY
    # Descend through the subcommands typed so far (psi audit verify ...).
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        mapfile -t subs < <(_psi_complete_subcommands "$name" "$help" "${path[@]}")
        [[ " ${subs[*]} " == *" $word "* ]] || break
        path+=("$word")
        _psi_complete_help "$prog" "${path[@]}"
        help=$REPLY
    done
    mapfile -t subs < <(_psi_complete_subcommands "$name" "$help" "${path[@]}")

    # The value of the option before the cursor.
    local prev="" opt value
    [ "$COMP_CWORD" -gt 1 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
    if [[ $prev == -* ]]; then
        while read -r opt value; do
            [ "$opt" = "$prev" ] || continue
            case "$value" in
            -) break ;;
            DIR | *DIR) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
            FILE | *FILE | PATH | OUT) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
            *'|'*) mapfile -t COMPREPLY < <(compgen -W "$(tr '|' ' ' <<<"${value//[A-Z.,]*/}")" -- "$cur") ;;
            *) COMPREPLY=() ;;
            esac
            return 0
        done < <(_psi_complete_options "$help")
    fi

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_psi_complete_options "$help" | cut -d ' ' -f 1)" -- "$cur")
    elif [ ${#subs[@]} -gt 0 ]; then
        mapfile -t COMPREPLY < <(compgen -W "${subs[*]}" -- "$cur")
    elif [ ${#path[@]} -gt 0 ]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
    return 0
}

complete -F _psi_complete psi psi-hub
