fail="$1"
if [ "$fail" = "true" ]; then
  echo "guard refused" >&2
  exit 3
fi
echo "guard ok"
