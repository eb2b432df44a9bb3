echo "left"
