# Arguments are positional, in signature order.
dir="${1:-.}"
depth="${2:-1}"
echo "Reporting on $dir (depth $depth)" >&2
count=$(find "$dir" -maxdepth "$depth" -type f | wc -l)
echo "{\"dir\": \"$dir\", \"files\": $count}"
