from drsdoctor.cli import main

main()
