# Sourced by the build checks. expect WHAT TEXT PATTERN: prints TEXT, fails the check unless it
# contains PATTERN (a bash match, not grep -q in a pipe, which can die of SIGPIPE).
expect() {
  echo "$1: $2"
  [[ "$2" == *"$3"* ]] || { echo "FAILED: $1 does not say '$3'"; exit 1; }
}
