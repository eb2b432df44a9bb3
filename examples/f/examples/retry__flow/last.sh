echo "last step ran"
