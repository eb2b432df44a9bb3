marker="$1"
if [ ! -e "$marker" ]; then
  touch "$marker"
  echo "first attempt fails" >&2
  exit 1
fi
echo "passed on a retry"
