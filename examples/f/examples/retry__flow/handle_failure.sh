message="$1"
step="$2"
echo "$message"
echo "handled failure of $step"
