module hiserve/bench/peers/go

go 1.19
