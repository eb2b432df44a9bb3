i="$1"
echo "$i"
