echo "right"
