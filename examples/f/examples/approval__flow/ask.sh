what="$1"
echo "approval needed for $what"
