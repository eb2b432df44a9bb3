echo "few"
