set terminal pngcairo size 960,600 font ',11'
set output 'bench/results/acl-20261128-apply.png'
set title 'Ruleset apply time against rule count (text to enforcement)'
set xlabel 'rules'
set ylabel 'ms'
set logscale xy
set grid
set key outside right
set format x '10^{%L}'

set linetype 1 lc rgb '#000000'
set linetype 2 lc rgb '#e69f00'
set linetype 3 lc rgb '#56b4e9'
set linetype 4 lc rgb '#009e73'
set linetype 5 lc rgb '#d55e00'
set linetype 6 lc rgb '#0072b2'
set linetype 7 lc rgb '#cc79a7'
set linetype 8 lc rgb '#999999'
set linetype cycle 8
$s0 << EOD
1 24.027
100 31.961
1000 64.266
10000 90.804
100000 726.411
EOD
$s1 << EOD
1 3.794
100 8.273
1000 55.374
10000 422.699
100000 4929.78
EOD
$s2 << EOD
1 3.714
100 6.368
1000 19.704
10000 159.505
100000 2142.39
EOD
$s3 << EOD
1 23.472
100 23.474
1000 50.896
10000 322.796
100000 3203.38
EOD
plot $s0 using 1:2 with linespoints lw 2 pt 1 lc 1 dt 1 title 'moat', \
     $s1 using 1:2 with linespoints lw 2 pt 2 lc 2 dt 1 title 'nft-netdev', \
     $s2 using 1:2 with linespoints lw 2 pt 3 lc 3 dt 1 title 'nft-sets', \
     $s3 using 1:2 with linespoints lw 2 pt 4 lc 4 dt 1 title 'iptables-raw'
