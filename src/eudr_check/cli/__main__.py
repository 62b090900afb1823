from eudr_check.cli import main

main()
