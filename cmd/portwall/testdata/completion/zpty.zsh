# Completes a command line in a real zsh, for TestShellCompletion:
#
#   zsh -f zpty.zsh SCRIPT LINE...
#
# starts an interactive zsh on a pseudo-terminal (zsh/zpty), loads the
# completion system and SCRIPT, and for each LINE types it and TAB, prints
# every match the completion adds, one per line, as compadd hands it to
# zsh (compadd is wrapped to record its matches, -A, before adding them),
# then a line "--", and clears the line. A function of comppostfuncs
# prints the end of each completion, so that nothing depends on timing;
# it is set anew for each line, as zsh empties comppostfuncs after use.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PS1='' RPS1='' LISTMAX=100000; autoload -Uz compinit; compinit -u -D; source ${(q)1}"
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __h; builtin compadd -A __h "$@"; local x
  for x in $__h; do print -r -- "<<match:$IPREFIX$x>>"; done
  builtin compadd "$@"
}'
zpty -w z '_pw_end() { print -r -- "<<end>>" }'
zpty -w z "bindkey '^I' complete-word; zstyle ':completion:*' insert-tab false; print -r -- '<<ready>>'"
local l
while zpty -r z l; do [[ $l == '<<ready>>'* ]] && break; done
for line in "${@[2,-1]}"; do
  # comppostfuncs is emptied after each completion.
  zpty -w z 'comppostfuncs=(_pw_end)'
  zpty -w -n z "$line"$'\t'
  while zpty -r z l; do
    [[ $l == *'<<end>>'* ]] && break
    [[ $l == *'<<match:'*'>>'* ]] && print -r -- ${${l#*<<match:}%%>>*}
  done
  print -r -- --
  zpty -w -n z $'\C-e\C-u'
done
zpty -d z
