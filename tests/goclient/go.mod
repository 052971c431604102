module hiserve/tests/goclient

go 1.19
