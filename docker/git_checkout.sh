#!/bin/sh
# git_checkout.sh URL COMMIT DIR: clone URL into DIR at exactly COMMIT (a full 40-hex id), submodules included,
# and fail unless HEAD is that commit. Git names content by hash, so the commit id pins the source tree.
set -eu
url=$1 commit=$2 dir=$3
case $commit in
  *[!0-9a-f]*|"") echo "git_checkout.sh: '$commit' is not a full commit id" >&2; exit 2 ;;
esac
[ ${#commit} -eq 40 ] || { echo "git_checkout.sh: '$commit' is not a 40-character commit id" >&2; exit 2; }
git init -q "$dir"
git -C "$dir" remote add origin "$url"
git -C "$dir" fetch -q --depth 1 origin "$commit"
git -C "$dir" checkout -q --detach FETCH_HEAD
[ "$(git -C "$dir" rev-parse HEAD)" = "$commit" ] || { echo "git_checkout.sh: $url is not at $commit" >&2; exit 1; }
git -C "$dir" submodule update -q --init --recursive --depth 1
