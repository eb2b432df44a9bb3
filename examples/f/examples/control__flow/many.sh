echo "many"
